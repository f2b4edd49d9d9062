package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of fencing tokens (docs/CONTRACT.md): they strictly increase from hold to
 * hold, across cleanups and client restarts, and a hold keeps its token. Run by
 * {@link ConformanceSuite} as its nested {@code Fencing} tests.
 */
public interface FencingContract extends ConformanceFixture {

    @Test
    @DisplayName("strictly increase over 36 acquisitions: 4 owners, 2 Dlms, ended by unlock, close and expiry")
    default void strictlyIncreaseAcrossReleaseAndExpiry() throws InterruptedException {
        Duration ttl = Duration.ofMillis(300);
        Dlm one = dlm(OWNER_A);
        Dlm two = dlm(OWNER_B);
        List<Mutex> mutexes = List.of(
                one.newMutex(key(), ttl),
                two.newMutex(key(), ttl),
                mutex(one, key(), OWNER_C, ttl),
                mutex(two, key(), OWNER_D, ttl));
        long last = 0;
        for (int i = 0; i < 36; i++) {
            Mutex mutex = mutexes.get(i % mutexes.size());
            Lease lease = mutex.lock(Duration.ofSeconds(5));
            assertThat(lease.fencingToken())
                    .as("token of acquisition %d (%s)", i, mutex.owner())
                    .isGreaterThan(last);
            last = lease.fencingToken();
            switch (i % 3) {
                case 0 -> mutex.unlock();
                case 1 -> lease.close();
                default -> { } // let it expire: the next owner waits for the ttl
            }
        }
    }

    @Test
    @DisplayName("lease.refresh(), relocking and the same owner elsewhere keep the token")
    default void refreshAndRelockKeepToken() throws InterruptedException {
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        Lease lease = acquired(mutex.tryLock(), "tryLock");
        long token = lease.fencingToken();
        assertThat(lease.refresh()).isTrue();
        assertThat(lease.fencingToken()).isEqualTo(token);
        assertThat(acquired(mutex.tryLock(), "relock by tryLock").fencingToken()).isEqualTo(token);
        assertThat(mutex.lock().fencingToken()).as("relock by lock()").isEqualTo(token);
        assertThat(mutex.lock(Duration.ZERO).fencingToken()).as("relock by lock(ZERO)").isEqualTo(token);
        assertThat(acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "relock through another Dlm").fencingToken())
                .isEqualTo(token);
        assertThat(mutex.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(token);
        lease.close();
    }

    @Test
    @DisplayName("increase after the stored record was cleaned up following a release")
    default void increaseAfterCleanupOfReleasedRecord() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        long first;
        try (Lease lease = acquired(a.tryLock(), "owner-a's tryLock")) {
            first = lease.fencingToken();
        }
        deleteStoredRecord(key());
        try (Lease lease = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "owner-b's tryLock after cleanup")) {
            assertThat(lease.fencingToken()).isGreaterThan(first);
        }
    }

    @Test
    @DisplayName("increase after the stored record of an expired hold was cleaned up (same owner again)")
    default void increaseAfterCleanupOfExpiredRecord() {
        Duration ttl = Duration.ofMillis(300);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
        deleteStoredRecord(key());
        try (Lease again = acquired(a.tryLock(), "owner-a's tryLock after cleanup")) {
            assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
        }
    }

    @Test
    @DisplayName("increase across client restarts (Dlm closed, a new one created)")
    default void increaseAcrossClientRestart() {
        Dlm first = dlm(OWNER_A);
        Lease held = acquired(first.newMutex(key()).tryLock(), "tryLock before the restart");
        first.close(); // releases the held lease

        Dlm second = dlm(OWNER_A);
        Mutex mutex = second.newMutex(key());
        Lease next = acquired(mutex.tryLock(), "tryLock after the first restart");
        assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
        next.close();
        second.close();

        Dlm third = dlm(OWNER_B);
        try (Lease last = acquired(third.newMutex(key()).tryLock(), "tryLock after the second restart")) {
            assertThat(last.fencingToken()).isGreaterThan(next.fencingToken());
        }
    }
}
