package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.ConformanceSuite.SafetyRule;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The safety rules of docs/CONTRACT.md ("Safety rules") about how leases end:
 * {@code CLOSE_ENDS_EVERY_LEASE}, {@code LOST_BY_LOCAL_EXPIRY} and
 * {@code EXPIRED_LEASES_FORGOTTEN}. Tagged {@value ConformanceSuite#SAFETY_RULES_TAG}; run by
 * {@link ConformanceSuite} as part of its nested {@code SafetyRules} tests.
 */
@Tag(ConformanceSuite.SAFETY_RULES_TAG)
public interface LeaseEndSafetyRulesContract extends ConformanceFixture {

    // ---- CLOSE_ENDS_EVERY_LEASE -----------------------------------------------------------

    private void endingOneEndsAll(String how, int which) {
        Dlm dlm = dlm(OWNER_A);
        Mutex refreshing = dlm.newMutex(MutexOptions.builder(key()).ttl(Duration.ofSeconds(1)).autoRefresh(true).build());
        Mutex plain = dlm.newMutex(key(), LONG_TTL);
        Mutex third = dlm.newMutex(key());
        Lease first = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock (ttl 1 s)");
        Lease second = acquired(plain.tryLock(), "owner-a's relock through a second Mutex of the Dlm");
        Lease again = acquired(refreshing.tryLock(), "owner-a's relock through the first Mutex");
        List<Lease> leases = List.of(first, second, again);
        List<String> names = List.of("the first (auto-refreshed) lease", "the second Mutex's lease", "the first Mutex's second lease");
        AtomicInteger lost = new AtomicInteger();
        leases.forEach(lease -> lease.onLost(lost::incrementAndGet));

        switch (which) {
            case 0 -> first.close();
            case 1 -> second.close();
            default -> third.unlock();
        }
        for (int i = 0; i < leases.size(); i++) {
            assertThat(leases.get(i).isValid()).as("isValid of %s after %s", names.get(i), how).isFalse();
        }
        for (int i = 0; i < leases.size(); i++) {
            assertThat(leases.get(i).refresh()).as("refresh of %s after %s", names.get(i), how).isFalse();
        }
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease taken = acquired(b.tryLock(), "owner-b's tryLock right after " + how);
        throughout("after " + how + ": no onLost runs, no lease turns valid, owner-b keeps the lock", Duration.ofSeconds(1))
                .until(() -> lost.get() == 0 && leases.stream().noneMatch(Lease::isValid)
                        && b.holder().map(LockInfo::fencingToken).equals(Optional.of(taken.fencingToken())));
        taken.close();
    }

    @Test
    @DisplayName("closing the first lease ends every lease of that key and owner in the Dlm: invalid, refresh false, no onLost, another owner locks at once")
    default void closingTheFirstLeaseEndsAll() {
        requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
        endingOneEndsAll("closing the first lease", 0);
    }

    @Test
    @DisplayName("closing a relock's lease ends every lease of that key and owner in the Dlm: invalid, refresh false, no onLost, another owner locks at once")
    default void closingARelockLeaseEndsAll() {
        requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
        endingOneEndsAll("closing the relock's lease", 1);
    }

    @Test
    @DisplayName("unlock() through a third Mutex of the Dlm ends every lease of that key and owner in it: invalid, refresh false, no onLost")
    default void unlockThroughThirdMutexEndsAll() {
        requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
        endingOneEndsAll("unlock() through a third Mutex", 2);
    }

    // ---- LOST_BY_LOCAL_EXPIRY -------------------------------------------------------------

    @Test
    @DisplayName("an auto-refreshed lease (ttl 1.5 s) whose backend stops answering is lost, onLost run, no later than its expiresAt + 1 s")
    default void lostByLocalExpiryWhenBackendFreezes() throws InterruptedException {
        requireRule(SafetyRule.LOST_BY_LOCAL_EXPIRY);
        Duration ttl = Duration.ofMillis(1500);
        // a refresh round that hangs for the timeout after a third of the ttl ends just before the
        // expiry: an engine that marks the lease lost only at the end of a failed round is late
        Duration operationTimeout = Duration.ofMillis(900);
        Dlm dlm = dlm(options(OWNER_A).operationTimeout(operationTimeout).build());
        Mutex mutex = dlm.newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
        Lease lease = acquired(mutex.tryLock(), "owner-a's auto-refreshed tryLock");
        CountDownLatch lost = new CountDownLatch(1);
        AtomicInteger lostCount = new AtomicInteger();
        Instant[] lostAt = new Instant[2];
        boolean[] validInCallback = new boolean[1];
        lease.onLost(() -> {
            lostAt[0] = clock().instant();
            lostAt[1] = lease.expiresAt();
            validInCallback[0] = lease.isValid();
            lostCount.incrementAndGet();
            lost.countDown();
        });
        Instant frozenAt;
        try {
            freezeBackend();
            frozenAt = clock().instant();
            assertThat(lost.await(10, TimeUnit.SECONDS)).as("onLost runs while the backend does not answer").isTrue();
        } finally {
            thawBackend();
        }
        Instant expiry = lostAt[1];
        assertThat(expiry).as("expiresAt when onLost ran: from a refresh answered before the freeze")
                .isBeforeOrEqualTo(frozenAt.plus(ttl).plus(expiryGranularity()));
        assertThat(lostAt[0]).as("when onLost ran: no later than the lease's expiresAt %s plus %s", expiry, LATE_SLACK)
                .isBeforeOrEqualTo(expiry.plus(LATE_SLACK));
        assertThat(validInCallback[0]).as("isValid when onLost ran").isFalse();
        assertThat(lease.isValid()).isFalse();
        assertThat(lostCount.get()).as("onLost ran once").isEqualTo(1);
    }

    // ---- EXPIRED_LEASES_FORGOTTEN ---------------------------------------------------------

    /** Locks in a method of its own, so that no local variable of the test keeps the lease reachable. */
    private static WeakReference<Lease> lockWeakly(Mutex mutex, long[] tokens, int i) {
        Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("owner-a's tryLock #" + i + " should acquire the lock"));
        tokens[i] = lease.fencingToken();
        return new WeakReference<>(lease);
    }

    @Test
    @DisplayName("200 leases that expire unclosed (some taken over by another owner, some by the owner elsewhere) are forgotten, and close() is quick and releases none")
    default void expiredLeasesAreForgotten() throws InterruptedException {
        requireRule(SafetyRule.EXPIRED_LEASES_FORGOTTEN);
        int count = 200;
        // long enough that a free key is always acquired: Redlock grants no hold whose quorum round
        // took longer than its validity (ttl less drift), and with 200 ms a stalled machine (three
        // fresh clones at once) made tryLock #73 come back empty
        Duration ttl = Duration.ofSeconds(1);
        Dlm a = dlm(OWNER_A);
        List<Mutex> mutexes = new ArrayList<>(); // reachable, as a user's would be
        List<WeakReference<Lease>> leases = new ArrayList<>();
        long[] tokens = new long[count];
        for (int i = 0; i < count; i++) {
            Mutex mutex = a.newMutex(key("expiring-" + i), ttl);
            mutexes.add(mutex);
            leases.add(lockWeakly(mutex, tokens, i));
        }

        Dlm b = dlm(OWNER_B);
        Dlm elsewhere = dlm(OWNER_A);
        List<Lease> takenByB = new ArrayList<>();
        List<Lease> takenElsewhere = new ArrayList<>();
        Duration maxWait = Duration.ofSeconds(5).plus(expiryGranularity());
        for (int i = 0; i < 40; i++) {
            Lease taken = b.newMutex(key("expiring-" + i)).lock(maxWait);
            assertThat(taken.fencingToken()).as("owner-b's token on expired key %d", i).isGreaterThan(tokens[i]);
            takenByB.add(taken);
        }
        for (int i = 40; i < 60; i++) {
            Mutex mutex = elsewhere.newMutex(key("expiring-" + i));
            eventually("owner-a's hold on key " + i + " expires", maxWait).until(() -> mutex.holder().isEmpty());
            Lease taken = acquired(mutex.tryLock(), "owner-a's tryLock through another Dlm on expired key " + i);
            assertThat(taken.fencingToken()).as("a new hold on expired key %d", i).isGreaterThan(tokens[i]);
            takenElsewhere.add(taken);
        }

        await("every expired lease is garbage-collected").pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                .atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    System.gc();
                    assertThat(leases.stream().filter(ref -> ref.get() != null).count())
                            .as("expired, unclosed leases of %d still reachable (the Mutex objects are kept; the Dlm should forget them)", count)
                            .isZero();
                });
        assertThat(mutexes).hasSize(count);

        long start = now();
        a.close();
        assertThat(since(start)).as("close() of the Dlm whose %d leases expired took", count).isLessThan(LATE_SLACK);
        Dlm reader = dlm(OWNER_C);
        for (Lease taken : takenByB) {
            assertThat(reader.newMutex(taken.key()).holder()).as("owner-b's hold on %s after owner-a's Dlm closed", taken.key())
                    .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
        }
        for (Lease taken : takenElsewhere) {
            assertThat(reader.newMutex(taken.key()).holder())
                    .as("owner-a's new hold through another Dlm on %s, after the first Dlm (whose lease expired) closed", taken.key())
                    .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
            assertThat(taken.isValid()).isTrue();
        }
    }
}
