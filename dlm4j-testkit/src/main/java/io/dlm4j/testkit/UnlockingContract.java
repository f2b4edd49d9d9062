package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of {@code Mutex.unlock()} and {@code Lease.close()}: idempotent, and never
 * a release of another holder (docs/CONTRACT.md). Run by {@link ConformanceSuite} as its nested
 * {@code Unlocking} tests.
 */
public interface UnlockingContract extends ConformanceFixture {

    @Test
    @DisplayName("unlock by another owner is a no-op")
    default void unlockByOtherOwnerIsNoOp() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        b.unlock();
        LockInfo info = a.holder().orElseThrow(() -> new AssertionError("owner-b's unlock released owner-a"));
        assertThat(info.owner()).isEqualTo(OWNER_A);
        assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
        assertThat(b.tryLock()).isEmpty();
        assertThat(lease.isValid()).isTrue();
        assertThat(lease.refresh()).isTrue();
        lease.close();
    }

    @Test
    @DisplayName("unlock is idempotent, also on a key never locked, and never releases the next holder")
    default void unlockIsIdempotent() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());
        a.unlock();
        assertThat(a.holder()).isEmpty();

        acquired(a.tryLock(), "owner-a's tryLock");
        a.unlock();
        a.unlock();
        assertThat(a.holder()).isEmpty();

        try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
            a.unlock();
            assertThat(b.holder()).as("owner-a's late unlock").get()
                    .extracting(LockInfo::owner).isEqualTo(OWNER_B);
            assertThat(taken.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("Lease.close releases at once and is idempotent; a late close never releases the next holder")
    default void leaseCloseIsIdempotent() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        lease.close();
        assertThat(a.holder()).isEmpty();
        lease.close();
        try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock right after the close")) {
            lease.close();
            assertThat(b.holder()).as("owner-a's late close").get()
                    .extracting(LockInfo::owner).isEqualTo(OWNER_B);
            assertThat(taken.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("after close: isValid false, refresh false (and takes nothing), onLost never runs")
    default void closedLease() {
        Mutex a = dlm(OWNER_A).newMutex(key(), Duration.ofMillis(600));
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        AtomicInteger lost = new AtomicInteger();
        lease.onLost(lost::incrementAndGet);
        lease.close();

        assertThat(lease.isValid()).isFalse();
        assertThat(lease.refresh()).isFalse();
        assertThat(a.holder()).as("refresh after close takes nothing").isEmpty();
        lease.onLost(lost::incrementAndGet);

        try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
            assertThat(lease.refresh()).isFalse();
            throughout("onLost never runs after close", Duration.ofMillis(700)).until(() -> lost.get() == 0);
            assertThat(taken.isValid()).isTrue();
        }
    }

    @Test
    @DisplayName("a lease and a mutex unlock of the same owner are one release")
    default void unlockThenLeaseClose() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        a.unlock();
        assertThat(a.holder()).isEmpty();
        assertThat(lease.refresh()).as("refresh after the owner's unlock").isFalse();
        lease.close();
        assertThat(lease.isValid()).isFalse();
    }
}
