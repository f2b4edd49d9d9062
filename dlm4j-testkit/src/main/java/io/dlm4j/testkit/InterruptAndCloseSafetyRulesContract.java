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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.testkit.Races.lastRounds;
import static io.dlm4j.testkit.Races.spin;
import static io.dlm4j.testkit.Races.spinUntil;
import static io.dlm4j.testkit.Races.variedDelayNanos;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The safety rules of docs/CONTRACT.md ("Safety rules") about calls that an interrupt or a closing
 * Dlm ends: {@code INTERRUPT_LEAVES_NO_HOLD} and {@code CLOSED_DLM_ENDS_CALLS}. Tagged
 * {@value ConformanceSuite#SAFETY_RULES_TAG}; run by {@link ConformanceSuite} as part of its nested
 * {@code SafetyRules} tests.
 */
@Tag(ConformanceSuite.SAFETY_RULES_TAG)
public interface InterruptAndCloseSafetyRulesContract extends ConformanceFixture {

    // ---- INTERRUPT_LEAVES_NO_HOLD ---------------------------------------------------------

    @Test
    @DisplayName("lock() on a free key, interrupted at 30 varied moments, leaves no hold once the lease it got is closed; InterruptedException clears the flag")
    default void interruptedLockOnFreeKeyLeavesNoHold() throws InterruptedException {
        requireRule(SafetyRule.INTERRUPT_LEAVES_NO_HOLD);
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        Mutex reader = dlm(OWNER_B).newMutex(key());
        record Outcome(boolean gotLease, boolean flagAfterInterruptedException) { }
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            boolean interruptFirst = i % 10 == 0;
            boolean withMaxWait = i % 2 == 1;
            String what = "round " + i + ": " + (withMaxWait ? "lock(5 s)" : "lock()") + " on a free key"
                    + (interruptFirst ? ", interrupted before it starts" : "");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interruptSent = new CountDownLatch(1);
            Attempt<Outcome> locker = inBackground("lock " + i, () -> {
                if (interruptFirst) {
                    Thread.currentThread().interrupt();
                }
                started.countDown();
                Lease lease;
                try {
                    lease = withMaxWait ? mutex.lock(Duration.ofSeconds(5)) : mutex.lock();
                } catch (InterruptedException e) {
                    return new Outcome(false, Thread.currentThread().isInterrupted());
                }
                // the interrupt must not land in close(): wait until it was sent, then clear it
                spinUntil(interruptSent);
                Thread.interrupted();
                lease.close();
                return new Outcome(true, false);
            });
            started.await();
            if (!interruptFirst) {
                spin(variedDelayNanos(i));
                locker.thread().interrupt();
            }
            interruptSent.countDown();
            Outcome outcome = locker.get(Duration.ofSeconds(10));
            locker.thread().join(TimeUnit.SECONDS.toMillis(5));
            assertThat(locker.thread().isAlive()).as(what + ": thread ended").isFalse();
            rounds.add("round " + i + " " + (outcome.gotLease() ? "got a lease, closed it" : "InterruptedException"));
            assertThat(outcome.flagAfterInterruptedException()).as(what + ": interrupt flag after InterruptedException").isFalse();
            assertThat(reader.holder()).as(what + ": holder() once the thread ended" + lastRounds(rounds)).isEmpty();
        }
    }

    @Test
    @DisplayName("tryLock() interrupted at 30 varied moments keeps the interrupt flag and leaves no hold it gave no lease for")
    default void interruptedTryLockLeavesNoHold() throws InterruptedException {
        requireRule(SafetyRule.INTERRUPT_LEAVES_NO_HOLD);
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        Mutex reader = dlm(OWNER_B).newMutex(key());
        record Outcome(boolean gotLease, RuntimeException failure, boolean flagAfterwards) { }
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            boolean interruptFirst = i % 10 == 0;
            String what = "round " + i + ": tryLock() on a free key" + (interruptFirst ? ", interrupted before it starts" : "");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interruptSent = new CountDownLatch(1);
            Attempt<Outcome> locker = inBackground("tryLock " + i, () -> {
                if (interruptFirst) {
                    Thread.currentThread().interrupt();
                }
                started.countDown();
                Optional<Lease> lease = Optional.empty();
                RuntimeException failure = null;
                try {
                    lease = mutex.tryLock();
                } catch (RuntimeException e) {
                    failure = e;
                }
                spinUntil(interruptSent);
                boolean flag = Thread.interrupted(); // reads and clears it, so that close() runs uninterrupted
                lease.ifPresent(Lease::close);
                return new Outcome(lease.isPresent(), failure, flag);
            });
            started.await();
            if (!interruptFirst) {
                spin(variedDelayNanos(i));
                locker.thread().interrupt();
            }
            interruptSent.countDown();
            Outcome outcome = locker.get(Duration.ofSeconds(10));
            locker.thread().join(TimeUnit.SECONDS.toMillis(5));
            String result = outcome.gotLease() ? "got a lease, closed it"
                    : outcome.failure() != null ? "threw " + outcome.failure() : "empty";
            rounds.add("round " + i + " " + result);
            assertThat(outcome.flagAfterwards()).as(what + " (" + result + "): interrupt flag afterwards").isTrue();
            assertThat(reader.holder()).as(what + ": holder() once the thread ended" + lastRounds(rounds)).isEmpty();
        }
    }

    // ---- CLOSED_DLM_ENDS_CALLS ------------------------------------------------------------

    private void assertClosedAtOnce(String what, Callable<?> call) throws InterruptedException {
        long start = now();
        Attempt<?> attempt = inBackground(what, call);
        Throwable failure = attempt.failure(Duration.ofSeconds(5));
        assertThat(failure).as(what + " on a closed Dlm").isInstanceOf(IllegalStateException.class);
        assertThat(Duration.ofNanos(attempt.finishedNanos() - start)).as(what + " on a closed Dlm failed after").isLessThan(LATE_SLACK);
    }

    @Test
    @DisplayName("after close(): newMutex, lock, lock(maxWait), tryLock, unlock, holder and ping throw IllegalStateException at once; refresh() is false, Lease.close() a no-op")
    default void everyCallAfterCloseFails() throws InterruptedException {
        requireRule(SafetyRule.CLOSED_DLM_ENDS_CALLS);
        Dlm dlm = dlm(OWNER_A);
        Mutex mutex = dlm.newMutex(key(), LONG_TTL);
        Mutex refreshing = dlm.newMutex(MutexOptions.builder(key("refreshing")).ttl(Duration.ofSeconds(1)).autoRefresh(true).build());
        Lease lease = acquired(mutex.tryLock(), "owner-a's tryLock");
        Lease refreshed = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock");
        dlm.close();

        Dlm other = dlm(OWNER_B);
        Lease taken = acquired(other.newMutex(key()).tryLock(), "owner-b's tryLock after the close");
        assertClosedAtOnce("newMutex(key)", () -> dlm.newMutex(key()));
        assertClosedAtOnce("newMutex(key, ttl)", () -> dlm.newMutex(key(), Duration.ofSeconds(5)));
        assertClosedAtOnce("newMutex(options)", () -> dlm.newMutex(MutexOptions.builder(key()).build()));
        assertClosedAtOnce("lock() on a held key", mutex::lock);
        assertClosedAtOnce("lock(20 s) on a held key", () -> mutex.lock(Duration.ofSeconds(20)));
        assertClosedAtOnce("lock(ZERO)", () -> mutex.lock(Duration.ZERO));
        assertClosedAtOnce("lock() on a free key", refreshing::lock);
        assertClosedAtOnce("tryLock()", mutex::tryLock);
        assertClosedAtOnce("unlock()", () -> {
            mutex.unlock();
            return null;
        });
        assertClosedAtOnce("holder()", mutex::holder);
        assertClosedAtOnce("ping()", dlm::ping);

        for (Lease closed : List.of(lease, refreshed)) {
            assertThat(closed.refresh()).as("refresh() of %s after close()", closed.key()).isFalse();
            assertThat(closed.isValid()).isFalse();
            closed.close();
        }
        assertThat(other.newMutex(key()).holder()).as("owner-b's hold after the closed Dlm's Lease.close()")
                .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
        assertThat(other.newMutex(key("refreshing")).holder()).as("the auto-refreshed key after close()").isEmpty();
    }

    @Test
    @DisplayName("a Dlm closed while lock(), lock(maxWait), tryLock() or holder() runs ends it with IllegalStateException or its result, never another exception, leaving no hold (20 rounds)")
    default void closeDuringCallsEndsThemCleanly() throws InterruptedException {
        requireRule(SafetyRule.CLOSED_DLM_ENDS_CALLS);
        Lease held = acquired(dlm(OWNER_A).newMutex(key("held")).tryLock(), "owner-a's tryLock");
        Dlm readers = dlm(OWNER_C);
        Mutex readHeld = readers.newMutex(key("held"));
        Mutex readFree = readers.newMutex(key("free"));
        String[] kinds = {"a lock() waiting on a held key", "a lock(20 s) waiting on a held key",
                "a lock() starting on a free key", "a tryLock() starting on a free key", "a holder() starting"};
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int kind = i % kinds.length;
            String what = "round " + i + ": " + kinds[kind] + ", its Dlm closed under it";
            Dlm closing = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build());
            Mutex onHeld = closing.newMutex(key("held"));
            Mutex onFree = closing.newMutex(key("free"));
            Callable<Object> call = switch (kind) {
                case 0 -> onHeld::lock;
                case 1 -> () -> onHeld.lock(Duration.ofSeconds(20));
                case 2 -> onFree::lock;
                case 3 -> onFree::tryLock;
                default -> onHeld::holder;
            };
            CountDownLatch started = new CountDownLatch(1);
            Attempt<Object> attempt = inBackground("call " + i, () -> {
                started.countDown();
                return call.call();
            });
            started.await();
            if (kind <= 1) {
                awaitBlocked(attempt);
            } else {
                spin(variedDelayNanos(i));
            }
            closing.close();
            Throwable failure = attempt.failureOrNull(Duration.ofSeconds(5));
            attempt.thread().join(TimeUnit.SECONDS.toMillis(5));
            rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "returned"));
            if (kind <= 1 || failure != null) {
                assertThat(failure).as(what + ": ended with").isInstanceOf(IllegalStateException.class);
            }
            assertThat(readFree.holder().map(LockInfo::owner)).as(what + ": the free key's holder afterwards" + lastRounds(rounds))
                    .isNotEqualTo(Optional.of(OWNER_B));
            LockInfo info = readHeld.holder().orElseThrow(() -> new AssertionError(what + ": owner-a's hold is gone" + lastRounds(rounds)));
            assertThat(info.owner()).as(what + ": the held key's holder afterwards").isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).isEqualTo(held.fencingToken());
        }
    }
}
