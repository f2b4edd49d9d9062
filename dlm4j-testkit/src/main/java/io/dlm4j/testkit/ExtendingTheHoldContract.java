package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of relocks and refreshes by the holder, which extend its hold by the ttl
 * and keep waiters out that long (docs/CONTRACT.md). Run by {@link ConformanceSuite} as its nested
 * {@code ExtendingTheHold} tests.
 */
public interface ExtendingTheHoldContract extends ConformanceFixture {

    @Test
    @DisplayName("a relock at ~600 ms of a 1 s ttl makes a waiting owner wait until ttl after the relock")
    default void relockDelaysWaiter() throws InterruptedException {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

        long start = now();
        Lease first = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
        pauseUntil(start + Duration.ofMillis(600).toNanos());

        long relockStart = now();
        Lease relocked = acquired(a.tryLock(), "owner-a's relock");
        assertThat(relocked.fencingToken()).isEqualTo(first.fencingToken());

        Lease taken = waiter.get(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - relockStart))
                .as("owner-b acquired this long after the relock")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(taken.fencingToken()).isGreaterThan(first.fencingToken());
        taken.close();
    }

    @Test
    @DisplayName("two relocks by the holder delay the waiter further")
    default void twoRelocksDelayWaiterFurther() throws InterruptedException {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

        long start = now();
        Lease first = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
        pauseUntil(start + Duration.ofMillis(400).toNanos());
        Lease relock1 = acquired(a.tryLock(), "owner-a's first relock");
        pauseUntil(start + Duration.ofMillis(800).toNanos());
        long secondRelock = now();
        Lease relock2 = acquired(a.tryLock(), "owner-a's second relock");
        assertThat(relock1.fencingToken()).isEqualTo(first.fencingToken());
        assertThat(relock2.fencingToken()).isEqualTo(first.fencingToken());

        Lease taken = waiter.get(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - secondRelock))
                .as("owner-b acquired this long after the second relock")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - start))
                .as("owner-b acquired this long after the first lock")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1800).minus(EARLY_SLACK));
        taken.close();
    }

    @Test
    @DisplayName("lease.refresh() extends the hold by the ttl, moves expiresAt and keeps the token")
    default void leaseRefreshExtendsHold() throws InterruptedException {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

        long start = now();
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        Instant firstExpiry = lease.expiresAt();
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
        pauseUntil(start + Duration.ofMillis(500).toNanos());

        Instant before = clock().instant();
        long refreshStart = now();
        assertThat(lease.refresh()).as("refresh of a live hold").isTrue();
        Instant after = clock().instant();
        assertExpiresAt(lease.expiresAt(), before, after, ttl);
        assertThat(lease.expiresAt()).isAfter(firstExpiry);
        assertThat(lease.isValid()).isTrue();
        assertThat(a.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease.fencingToken());

        Lease taken = waiter.get(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - refreshStart))
                .as("owner-b acquired this long after the refresh")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
        taken.close();
    }
}
