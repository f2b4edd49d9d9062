package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The conformance tests of interrupts (docs/CONTRACT.md): an interrupt ends a wait in
 * {@code lock()} promptly with InterruptedException, clears the flag and leaves no hold. Run by
 * {@link ConformanceSuite} as its nested {@code Interrupts} tests.
 */
public interface InterruptsContract extends ConformanceFixture {

    private void interruptWhileWaiting(boolean withMaxWait) throws InterruptedException {
        Mutex a = dlm(OWNER_A).newMutex(key());
        Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
        Lease held = acquired(a.tryLock(), "owner-a's tryLock");

        Attempt<Lease> waiter = withMaxWait
                ? inBackground("owner-b lock(20 s)", () -> b.lock(Duration.ofSeconds(20)))
                : inBackground("owner-b lock()", b::lock);
        awaitBlocked(waiter);
        long interrupted = now();
        waiter.thread().interrupt();
        Throwable failure = waiter.failure(Duration.ofSeconds(5));
        assertThat(failure).isInstanceOf(InterruptedException.class);
        assertThat(Duration.ofNanos(waiter.finishedNanos() - interrupted))
                .as("the interrupted wait ended after").isLessThan(LATE_SLACK);

        held.close();
        throughout("the interrupted owner-b holds nothing", Duration.ofMillis(500)).until(() ->
                b.holder().map(LockInfo::owner).filter(OWNER_B::equals).isEmpty());
        try (Lease taken = acquired(dlm(OWNER_C).newMutex(key()).tryLock(), "owner-c's tryLock")) {
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        }
    }

    @Test
    @DisplayName("an interrupt ends a lock() wait promptly with InterruptedException and leaves no hold")
    default void interruptEndsLock() throws InterruptedException {
        interruptWhileWaiting(false);
    }

    @Test
    @DisplayName("an interrupt ends a lock(maxWait) wait promptly with InterruptedException and leaves no hold")
    default void interruptEndsLockWithMaxWait() throws InterruptedException {
        interruptWhileWaiting(true);
    }

    @Test
    @DisplayName("with the interrupt flag already set, lock() and lock(maxWait) throw at once, even on a free lock")
    default void alreadyInterrupted() {
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        for (boolean withMaxWait : new boolean[] {false, true}) {
            long start = now();
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(() -> {
                    if (withMaxWait) {
                        mutex.lock(Duration.ofSeconds(5));
                    } else {
                        mutex.lock();
                    }
                }).as(withMaxWait ? "lock(5 s)" : "lock()").isInstanceOf(InterruptedException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(since(start)).isLessThan(LATE_SLACK);
            assertThat(mutex.holder()).as("no hold left behind").isEmpty();
        }
        try (Lease taken = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "owner-b's tryLock")) {
            assertThat(taken.owner()).isEqualTo(OWNER_B);
        }
    }

    @Test
    @DisplayName("InterruptedException from lock() clears the interrupt flag, as java.util.concurrent locks do")
    default void interruptedExceptionClearsFlag() {
        Mutex mutex = dlm(OWNER_A).newMutex(key());
        Thread.currentThread().interrupt();
        boolean stillInterrupted;
        try {
            mutex.lock();
            fail("lock() should have thrown InterruptedException");
        } catch (InterruptedException expected) {
            // as asserted below
        } finally {
            stillInterrupted = Thread.interrupted();
        }
        assertThat(stillInterrupted).as("interrupt flag after InterruptedException").isFalse();
    }
}
