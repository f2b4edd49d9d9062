package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of a hold's end, at its ttl or at its release, and of its passing to a
 * waiter then (docs/CONTRACT.md). Run by {@link ConformanceSuite} as its nested
 * {@code ExpiryAndHandover} tests.
 */
public interface ExpiryAndHandoverContract extends ConformanceFixture {

    @Test
    @DisplayName("a hold that is never unlocked passes to a waiter at its ttl, woken by the expiry, not by polling")
    default void ttlHandover() throws InterruptedException {
        Duration ttl = Duration.ofMillis(700);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key(), ttl);

        long start = now();
        Lease held = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);

        Lease taken = waiter.get(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - start))
                .as("owner-b acquired this long after owner-a")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(taken.owner()).isEqualTo(OWNER_B);
        assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        assertThat(held.isValid()).as("owner-a's expired lease").isFalse();
        assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
        held.close();
        assertThat(b.holder()).as("owner-a's close does not release owner-b")
                .get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
        taken.close();
    }

    @Test
    @DisplayName("unlock before expiry hands the lock to a waiter well before the holder's ttl")
    default void unlockHandsOverToWaiter() throws InterruptedException {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Duration interval = Duration.ofMillis(200);
        Mutex b = dlm(options(OWNER_B).waitingInterval(interval).build()).newMutex(key());

        Lease held = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
        awaitBlocked(waiter);
        throughout("owner-b keeps waiting while owner-a holds", Duration.ofMillis(300)).until(() -> !waiter.isDone());

        long unlocked = now();
        a.unlock();
        Lease taken = waiter.get(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - unlocked))
                .as("owner-b acquired this long after the unlock")
                .isLessThan(interval.plus(LATE_SLACK));
        assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        taken.close();
    }

    @Test
    @DisplayName("a waiter is woken by the release, long before its waitingInterval (backends that push releases)")
    default void releaseNotificationWakesWaiter() throws InterruptedException {
        Assumptions.assumeTrue(notifiesWaitersOnRelease(), "this backend does not push releases to waiters");
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());

        Lease held = acquired(a.tryLock(), "owner-a's tryLock");
        Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
        awaitBlocked(waiter);

        long unlocked = now();
        held.close();
        Lease taken = waiter.get(Duration.ofSeconds(10));
        assertThat(Duration.ofNanos(waiter.finishedNanos() - unlocked))
                .as("owner-b (waitingInterval 5 s) acquired this long after the release")
                .isLessThan(LATE_SLACK);
        taken.close();
    }

    @Test
    @DisplayName("isValid turns false once expiresAt passes, and holder() turns empty after the ttl")
    default void leaseTurnsInvalidAtExpiry() {
        Duration ttl = Duration.ofMillis(300);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Lease lease = acquired(a.tryLock(), "tryLock");
        assertThat(lease.isValid()).isTrue();
        eventually("the lease turns invalid", Duration.ofSeconds(2)).until(() -> !lease.isValid());
        assertThat(clock().instant()).as("invalid only once expiresAt passed").isAfterOrEqualTo(lease.expiresAt());
        eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
        lease.close();
    }

    @Test
    @DisplayName("after its hold expired, refresh() is false (nobody took it), onLost runs, and a relock is a new hold")
    default void refreshAfterExpiryFails() {
        Duration ttl = Duration.ofMillis(300);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        Lease lease = acquired(a.tryLock(), "tryLock");
        AtomicInteger lost = new AtomicInteger();
        lease.onLost(lost::incrementAndGet);
        eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());

        assertThat(lease.refresh()).as("refresh of an expired hold").isFalse();
        assertThat(a.holder()).as("a failed refresh takes nothing").isEmpty();
        eventually("onLost runs", Duration.ofSeconds(2)).until(() -> lost.get() == 1);
        assertThat(lease.isValid()).isFalse();

        try (Lease again = acquired(a.tryLock(), "the same owner's tryLock after expiry")) {
            assertThat(again.fencingToken()).as("a new hold, a new token").isGreaterThan(lease.fencingToken());
        }
        assertThat(lost.get()).as("onLost ran once").isEqualTo(1);
    }
}
