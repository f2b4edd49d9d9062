package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of the lease that {@code tryLock()}, {@code lock()} and
 * {@code lock(maxWait)} give on a free key (docs/CONTRACT.md). Run by {@link ConformanceSuite} as
 * its nested {@code Acquiring} tests.
 */
public interface AcquiringContract extends ConformanceFixture {

    private void assertFreshLease(Mutex mutex, Lease lease, Instant before, Instant after) {
        assertThat(lease.key()).isEqualTo(mutex.key());
        assertThat(lease.owner()).isEqualTo(mutex.owner());
        assertThat(lease.fencingToken()).as("fencing token").isPositive();
        assertExpiresAt(lease.expiresAt(), before, after, mutex.ttl());
        assertThat(lease.isValid()).as("isValid").isTrue();
    }

    @Test
    @DisplayName("tryLock gives a lease with key, owner, token > 0, expiresAt = time before the request + ttl, valid")
    default void tryLockOnFreeKey() {
        Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
        Instant before = clock().instant();
        Lease lease = acquired(mutex.tryLock(), "tryLock");
        Instant after = clock().instant();
        assertFreshLease(mutex, lease, before, after);
        lease.close();
    }

    @Test
    @DisplayName("lock() on a free key gives a fresh lease at once")
    default void lockOnFreeKey() throws InterruptedException {
        Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
        Instant before = clock().instant();
        long start = now();
        Lease lease = mutex.lock();
        assertThat(since(start)).isLessThan(LATE_SLACK);
        Instant after = clock().instant();
        assertFreshLease(mutex, lease, before, after);
        lease.close();
    }

    @Test
    @DisplayName("lock(maxWait) and lock(ZERO) on a free key give a fresh lease")
    default void lockWithMaxWaitOnFreeKey() throws InterruptedException {
        Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
        Instant before = clock().instant();
        Lease lease = mutex.lock(Duration.ofSeconds(3));
        Instant after = clock().instant();
        assertFreshLease(mutex, lease, before, after);
        lease.close();

        Mutex other = dlm(OWNER_B).newMutex(key("zero"), Duration.ofSeconds(5));
        before = clock().instant();
        lease = other.lock(Duration.ZERO);
        after = clock().instant();
        assertFreshLease(other, lease, before, after);
        lease.close();
    }
}
