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

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.testkit.Races.lastRounds;
import static io.dlm4j.testkit.Races.spin;
import static io.dlm4j.testkit.Races.variedDelayNanos;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The safety rules of docs/CONTRACT.md ("Safety rules") about relocks and refreshes by the holder:
 * {@code RELOCK_NEVER_SHORTENS}, {@code LEASES_REPORT_STORE_EXPIRY}, {@code RELOCK_KEEPS_TOKEN} and
 * {@code FAILED_RELOCK_KEEPS_HOLD}. Tagged {@value ConformanceSuite#SAFETY_RULES_TAG}; run by
 * {@link ConformanceSuite} as part of its nested {@code SafetyRules} tests.
 */
@Tag(ConformanceSuite.SAFETY_RULES_TAG)
public interface RelockSafetyRulesContract extends ConformanceFixture {

    // ---- RELOCK_NEVER_SHORTENS ------------------------------------------------------------

    @Test
    @DisplayName("a relock and a refresh with a 1 s ttl, through another Mutex and another Dlm of the owner, leave a 30 s hold at 30 s, and every lease reports it")
    default void shorterRelockAndRefreshDoNotShorten() throws InterruptedException {
        requireRule(SafetyRule.RELOCK_NEVER_SHORTENS);
        Duration shortTtl = Duration.ofSeconds(1);
        Dlm one = dlm(OWNER_A);
        Dlm two = dlm(OWNER_A);
        Mutex longer = one.newMutex(key(), LONG_TTL);
        Mutex shorterHere = one.newMutex(key(), shortTtl);
        Mutex shorterThere = two.newMutex(key(), shortTtl);
        Mutex b = dlm(OWNER_B).newMutex(key());

        Instant before = clock().instant();
        Lease first = acquired(longer.tryLock(), "owner-a's tryLock with a 30 s ttl");
        Lease here = acquired(shorterHere.tryLock(), "owner-a's relock with a 1 s ttl through another Mutex of the Dlm");
        Lease there = acquired(shorterThere.tryLock(), "owner-a's relock with a 1 s ttl through another Dlm");
        assertThat(here.refresh()).as("refresh of a lease with a 1 s ttl, through the first Dlm").isTrue();
        assertThat(there.refresh()).as("refresh of a lease with a 1 s ttl, through the other Dlm").isTrue();
        long lastShort = now();

        pauseUntil(lastShort + shortTtl.plus(Duration.ofMillis(500)).plus(expiryGranularity()).toNanos());
        assertThat(b.tryLock()).as("owner-b's tryLock once the 1 s ttl of the relocks and refreshes passed").isEmpty();
        LockInfo info = b.holder().orElseThrow(() -> new AssertionError("holder() is empty: the 1 s relock shortened the 30 s hold"));
        assertThat(info.owner()).isEqualTo(OWNER_A);
        assertThat(info.fencingToken()).isEqualTo(first.fencingToken());
        assertThat(info.expiresAt()).as("holder()'s expiresAt: the 30 s hold, not shortened")
                .isAfter(before.plus(LONG_TTL).minus(validityAllowance(LONG_TTL)).minus(timeLeftResolution()).minus(LATE_SLACK));
        Duration slack = estimateSlack();
        List<Lease> leases = List.of(first, here, there);
        List<String> names = List.of("the 30 s lease", "the 1 s relock's lease (same Dlm)", "the 1 s relock's lease (other Dlm)");
        for (int i = 0; i < leases.size(); i++) {
            Lease lease = leases.get(i);
            assertThat(lease.isValid()).as("isValid of %s, while the hold lasts 30 s", names.get(i)).isTrue();
            assertThat(lease.expiresAt()).as("expiresAt of %s: what the store has (holder() says %s)", names.get(i), info.expiresAt())
                    .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));
        }
    }

    @Test
    @DisplayName("a relock with a longer ttl makes the earlier lease of the Dlm report the longer expiry and stay valid past its own ttl")
    default void longerRelockExtendsEarlierLease() throws InterruptedException {
        requireRule(SafetyRule.LEASES_REPORT_STORE_EXPIRY);
        Duration shortTtl = Duration.ofSeconds(1);
        Dlm dlm = dlm(OWNER_A);
        Mutex shorter = dlm.newMutex(key(), shortTtl);
        Mutex longer = dlm.newMutex(key(), LONG_TTL);
        Mutex b = dlm(OWNER_B).newMutex(key());

        Lease early = acquired(shorter.tryLock(), "owner-a's tryLock with a 1 s ttl");
        Lease later = acquired(longer.tryLock(), "owner-a's relock with a 30 s ttl through another Mutex of the Dlm");
        long relocked = now();
        LockInfo info = b.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
        Duration slack = estimateSlack();
        assertThat(later.expiresAt()).as("expiresAt of the 30 s relock's lease (holder() says %s)", info.expiresAt())
                .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));
        assertThat(early.expiresAt()).as("expiresAt of the earlier 1 s lease after the 30 s relock (holder() says %s)", info.expiresAt())
                .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));

        pauseUntil(relocked + shortTtl.plus(Duration.ofMillis(500)).plus(expiryGranularity()).toNanos());
        assertThat(b.tryLock()).as("owner-b's tryLock after the earlier lease's own ttl").isEmpty();
        assertThat(early.isValid()).as("isValid of the earlier 1 s lease, past its own ttl, while the hold lasts 30 s").isTrue();
        assertThat(later.isValid()).isTrue();
    }

    // ---- RELOCK_KEEPS_TOKEN ---------------------------------------------------------------

    @Test
    @DisplayName("relocks after auto-refresh rounds, through another Mutex, another Dlm and after a refresh keep the first token, which holder() shows")
    default void relocksKeepTheFirstToken() throws InterruptedException {
        requireRule(SafetyRule.RELOCK_KEEPS_TOKEN);
        Duration ttl = Duration.ofMillis(1500);
        Dlm one = dlm(OWNER_A);
        Dlm two = dlm(OWNER_A);
        Mutex refreshing = one.newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
        Mutex reader = dlm(OWNER_B).newMutex(key());

        Lease first = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock");
        long token = first.fencingToken();
        Instant firstExpiry = first.expiresAt();
        eventually("two auto-refresh rounds move expiresAt on", Duration.ofSeconds(6))
                .until(() -> first.expiresAt().isAfter(firstExpiry.plus(ttl.dividedBy(2))));
        assertThat(reader.holder()).as("holder after auto-refresh rounds").get()
                .extracting(LockInfo::fencingToken).isEqualTo(token);

        Lease viaMutex = acquired(one.newMutex(key(), ttl).tryLock(), "relock through another Mutex of the Dlm");
        assertThat(viaMutex.fencingToken()).as("token of the relock through another Mutex").isEqualTo(token);
        Lease viaDlm = acquired(two.newMutex(key()).tryLock(), "relock through another Dlm");
        assertThat(viaDlm.fencingToken()).as("token of the relock through another Dlm").isEqualTo(token);
        assertThat(viaDlm.refresh()).as("refresh through the other Dlm").isTrue();
        assertThat(viaDlm.fencingToken()).isEqualTo(token);
        Lease afterRefresh = two.newMutex(key()).lock(Duration.ofSeconds(5));
        assertThat(afterRefresh.fencingToken()).as("token of lock(5 s) through the other Dlm after the refresh").isEqualTo(token);
        Lease byLock = two.newMutex(key()).lock();
        assertThat(byLock.fencingToken()).as("token of lock() through the other Dlm").isEqualTo(token);
        assertThat(reader.holder()).as("holder after the relocks").get()
                .extracting(LockInfo::fencingToken).isEqualTo(token);

        // the hold now lasts 30 s, so expiresAt need not move: let two more refresh periods pass
        pauseUntil(now() + ttl.dividedBy(3).multipliedBy(2).plus(Duration.ofMillis(200)).toNanos());
        assertThat(first.isValid()).as("the auto-refreshed lease after the relocks").isTrue();
        Lease again = refreshing.lock(Duration.ZERO);
        assertThat(again.fencingToken()).as("token of lock(ZERO) through the auto-refreshed mutex").isEqualTo(token);
        LockInfo info = reader.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
        assertThat(info.owner()).isEqualTo(OWNER_A);
        assertThat(info.fencingToken()).as("holder()'s token at the end").isEqualTo(token);
    }

    // ---- FAILED_RELOCK_KEEPS_HOLD ---------------------------------------------------------

    @Test
    @DisplayName("relocks by the same owner through other Dlms, interrupted at 30 varied moments, never release the hold")
    default void interruptedRelockKeepsTheHold() throws InterruptedException {
        requireRule(SafetyRule.FAILED_RELOCK_KEEPS_HOLD);
        Lease held = acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "owner-a's tryLock through the first Dlm");
        long token = held.fencingToken();
        Mutex reader = dlm(OWNER_B).newMutex(key());
        int interrupted = 0;
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            boolean interruptFirst = i % 10 == 0;
            boolean withMaxWait = i % 2 == 1;
            String what = "round " + i + ": " + (withMaxWait ? "lock(5 s)" : "lock()") + " through a new Dlm of owner-a"
                    + (interruptFirst ? ", interrupted before it starts" : "");
            // a new Dlm each round: it has no lease of its own on the key, so a cleanup after the
            // interrupt could only release the hold of the first Dlm
            Mutex relocker = dlm(OWNER_A).newMutex(key());
            CountDownLatch started = new CountDownLatch(1);
            // a lease it gets is dropped, not closed: closing it would end the shared hold (owner rule)
            Attempt<Lease> relock = inBackground("relock " + i, () -> {
                if (interruptFirst) {
                    Thread.currentThread().interrupt();
                }
                started.countDown();
                return withMaxWait ? relocker.lock(Duration.ofSeconds(5)) : relocker.lock();
            });
            started.await();
            if (!interruptFirst) {
                spin(variedDelayNanos(i));
                relock.thread().interrupt();
            }
            Throwable failure = relock.failureOrNull(Duration.ofSeconds(10));
            rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "got a lease"));
            if (failure != null) {
                assertThat(failure).as(what + " ended with").isInstanceOf(InterruptedException.class);
                interrupted++;
            } else {
                assertThat(relock.get(Duration.ZERO).fencingToken()).as(what + ": token of its lease").isEqualTo(token);
            }
            relock.thread().join(TimeUnit.SECONDS.toMillis(5));
            LockInfo info = reader.holder().orElseThrow(() -> new AssertionError(
                    "owner-a's hold is gone after " + what + lastRounds(rounds)));
            assertThat(info.owner()).as(what + ": holder" + lastRounds(rounds)).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).as(what + ": token of the hold" + lastRounds(rounds)).isEqualTo(token);
            assertThat(held.isValid()).as(what + ": the first Dlm's lease").isTrue();
        }
        assertThat(interrupted).as("rounds that ended with InterruptedException").isPositive();
        assertThat(held.refresh()).as("refresh of the first lease after 30 interrupted relocks").isTrue();
    }

    @Test
    @DisplayName("a relock(5 s) whose Dlm is closed under it never releases the hold of the owner's other Dlm (20 rounds)")
    default void relockEndedByCloseKeepsTheHold() throws InterruptedException {
        requireRule(SafetyRule.FAILED_RELOCK_KEEPS_HOLD);
        Mutex holding = dlm(OWNER_A).newMutex(key());
        Lease held = acquired(holding.tryLock(), "owner-a's tryLock through the first Dlm");
        Mutex reader = dlm(OWNER_B).newMutex(key());
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String what = "round " + i + ": lock(5 s) through a second Dlm of owner-a, closed under it";
            long token = held.fencingToken();
            Dlm second = dlm(OWNER_A);
            Mutex relocker = second.newMutex(key());
            CountDownLatch started = new CountDownLatch(1);
            Attempt<Lease> relock = inBackground("relock " + i, () -> {
                started.countDown();
                return relocker.lock(Duration.ofSeconds(5));
            });
            started.await();
            spin(variedDelayNanos(i));
            second.close();
            Throwable failure = relock.failureOrNull(Duration.ofSeconds(10));
            relock.thread().join(TimeUnit.SECONDS.toMillis(5));
            rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "got a lease"));
            if (failure == null) {
                // it relocked before the close, and closing its Dlm released that lease and with
                // it the owner's hold, as it should: take the lock again for the next round
                held = holding.lock(Duration.ofSeconds(5));
                continue;
            }
            LockInfo info = reader.holder().orElseThrow(() -> new AssertionError(
                    "owner-a's hold is gone after " + what + lastRounds(rounds)));
            assertThat(info.owner()).as(what + ": holder" + lastRounds(rounds)).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).as(what + ": token of the hold" + lastRounds(rounds)).isEqualTo(token);
            assertThat(held.isValid()).as(what + ": the first Dlm's lease").isTrue();
        }
    }
}
