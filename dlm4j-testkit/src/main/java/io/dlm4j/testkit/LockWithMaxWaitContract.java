package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance tests of {@code lock(maxWait)} (docs/CONTRACT.md): it gives up after about
 * maxWait, leaving no hold, and takes the lock when it is released in time. Run by
 * {@link ConformanceSuite} as its nested {@code LockWithMaxWait} tests.
 */
public interface LockWithMaxWaitContract extends ConformanceFixture {

    @Test
    @DisplayName("throws LockTimeoutException after about maxWait while another owner holds, and leaves no hold")
    default void timesOutAfterMaxWait() throws InterruptedException {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease held = acquired(a.tryLock(), "owner-a's tryLock");

        Duration maxWait = Duration.ofMillis(500);
        long start = now();
        assertThatThrownBy(() -> b.lock(maxWait)).isInstanceOf(LockTimeoutException.class);
        assertThat(since(start)).as("gave up after")
                .isBetween(maxWait.minusMillis(20), maxWait.plus(LATE_SLACK));

        assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
        held.close();
        assertThat(b.holder()).as("the timed-out waiter left no hold").isEmpty();
    }

    @Test
    @DisplayName("ends on time even when maxWait is far shorter than waitingInterval")
    default void timesOutOnTimeWithLongWaitingInterval() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
        try (Lease held = acquired(a.tryLock(), "owner-a's tryLock")) {
            Duration maxWait = Duration.ofMillis(500);
            long start = now();
            assertThatThrownBy(() -> b.lock(maxWait)).isInstanceOf(LockTimeoutException.class);
            assertThat(since(start)).as("gave up after")
                    .isBetween(maxWait.minusMillis(20), maxWait.plus(LATE_SLACK));
            assertThat(held.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("lock(ZERO) is one try: LockTimeoutException at once when held")
    default void zeroIsOneTry() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
        try (Lease held = acquired(a.tryLock(), "owner-a's tryLock")) {
            long start = now();
            assertThatThrownBy(() -> b.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
            assertThat(since(start)).isLessThan(LATE_SLACK);
            assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
            assertThat(held.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("succeeds when the holder unlocks within maxWait")
    default void succeedsWhenReleasedWithinMaxWait() throws InterruptedException {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease held = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock(5 s)", () -> b.lock(Duration.ofSeconds(5)));
        awaitBlocked(waiter);
        held.close();
        try (Lease taken = waiter.get(Duration.ofSeconds(5))) {
            assertThat(taken.owner()).isEqualTo(OWNER_B);
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        }
    }

    @Test
    @DisplayName("negative maxWait: IllegalArgumentException; null: NullPointerException; both name maxWait")
    default void badMaxWait() {
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        assertThatThrownBy(() -> mutex.lock(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWait");
        assertThatThrownBy(() -> mutex.lock(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("maxWait");
        assertThat(mutex.holder()).isEmpty();
    }
}
