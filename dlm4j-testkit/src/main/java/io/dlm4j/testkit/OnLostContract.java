package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance tests of {@code Lease.onLost} (docs/CONTRACT.md): it runs once when a hold is
 * lost, by takeover, vanished record or failed refresh. Run by {@link ConformanceSuite} as its
 * nested {@code OnLost} tests.
 */
public interface OnLostContract extends ConformanceFixture {

    @Test
    @DisplayName("runs once when another owner takes over an auto-refreshing hold; at once when registered after")
    default void runsOnceWhenTakenOver() {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
        Mutex aElsewhere = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());

        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        AtomicInteger lost = new AtomicInteger();
        AtomicInteger lostToo = new AtomicInteger();
        lease.onLost(lost::incrementAndGet);
        lease.onLost(lostToo::incrementAndGet);

        aElsewhere.unlock();
        Lease taken = acquired(b.tryLock(), "owner-b's tryLock after owner-a's other unlock");
        eventually("both onLost callbacks run", Duration.ofSeconds(3)).until(() -> lost.get() >= 1 && lostToo.get() >= 1);
        throughout("each onLost callback ran exactly once", Duration.ofMillis(800)).until(() -> lost.get() == 1 && lostToo.get() == 1);
        assertThat(lease.isValid()).isFalse();
        assertThat(lease.refresh()).isFalse();
        assertThat(b.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);

        AtomicInteger late = new AtomicInteger();
        lease.onLost(late::incrementAndGet);
        assertThat(late.get()).as("onLost registered after the loss ran at once").isEqualTo(1);
        assertThat(lost.get()).isEqualTo(1);
        taken.close();
    }

    @Test
    @DisplayName("runs once when the record of an auto-refreshing hold vanishes; the next owner gets a greater token")
    default void runsOnceWhenRecordVanishes() {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        AtomicInteger lost = new AtomicInteger();
        lease.onLost(lost::incrementAndGet);

        deleteStoredRecord(key());
        eventually("onLost runs", Duration.ofSeconds(3)).until(() -> lost.get() >= 1);
        assertThat(lease.isValid()).isFalse();
        assertThat(a.holder()).as("the lost lease does not recreate the hold").isEmpty();
        try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
            assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
            throughout("onLost ran exactly once", Duration.ofMillis(700)).until(() -> lost.get() == 1);
        }
    }

    @Test
    @DisplayName("without auto-refresh: once the hold expired and was taken, refresh() is false and onLost runs once")
    default void runsOnceOnFailedRefresh() throws InterruptedException {
        Duration ttl = Duration.ofMillis(400);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        AtomicInteger lost = new AtomicInteger();
        lease.onLost(lost::incrementAndGet);

        try (Lease taken = b.lock(Duration.ofSeconds(5))) {
            assertThat(lease.refresh()).as("refresh after another owner took it").isFalse();
            eventually("onLost runs", Duration.ofSeconds(2)).until(() -> lost.get() >= 1);
            assertThat(lease.refresh()).isFalse();
            throughout("onLost ran exactly once", Duration.ofMillis(500)).until(() -> lost.get() == 1);
            assertThat(lease.isValid()).isFalse();
            assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
            assertThat(taken.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("a null callback: NullPointerException naming callback")
    default void nullCallback() {
        try (Lease lease = acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "tryLock")) {
            assertThatThrownBy(() -> lease.onLost(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("callback");
        }
    }
}
