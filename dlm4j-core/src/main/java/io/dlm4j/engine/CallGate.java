package io.dlm4j.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Counts the calls in progress on a Dlm, so that closing it can let them end before the store
 * closes under them. Without it a call racing {@code close()} fails on the client library's own
 * shutdown ("rejected from ThreadPoolExecutor[Shutting down]") and reports that as a backend
 * failure, and an acquire that lands after the sweep of held leases leaves its hold behind.
 *
 * <p>One atomic word holds both the count and the closed flag (its sign bit), so that entering
 * and leaving cost a compare-and-set, not a lock, on every call; the lock is taken only to wait
 * for the last call of a closing Dlm.
 *
 * <p>It only counts calls: what the failure of a store operation inside one becomes is
 * {@link TranslatingStore}'s to say.
 */
final class CallGate {

    private static final int CLOSED = Integer.MIN_VALUE;

    private final AtomicInteger state = new AtomicInteger(); // CLOSED bit | calls in progress
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private final Supplier<String> describeDlm;

    /** {@code describeDlm} names the Dlm in the refusal of a call after its close. */
    CallGate(Supplier<String> describeDlm) {
        this.describeDlm = describeDlm;
    }

    /** Counts a call in; throws if the Dlm is closed. Every successful enter is paired with {@link #exit()}. */
    void enter() {
        if (!tryEnter()) {
            throw closedException();
        }
    }

    /** As {@link #enter()}, for background work that a closed Dlm simply skips: false instead of throwing. */
    boolean tryEnter() {
        int current;
        do {
            current = state.get();
            if ((current & CLOSED) != 0) {
                return false;
            }
        } while (!state.compareAndSet(current, current + 1));
        return true;
    }

    /** One call of its own, made of a single store operation: refused once the Dlm is closed. */
    <T> T call(Supplier<T> work) {
        enter();
        try {
            return work.get();
        } finally {
            exit();
        }
    }

    void exit() {
        if (state.decrementAndGet() == CLOSED) {
            lock.lock();
            try {
                idle.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Refuses new calls from now on; true the first time. */
    boolean close() {
        int current;
        do {
            current = state.get();
            if ((current & CLOSED) != 0) {
                return false;
            }
        } while (!state.compareAndSet(current, current | CLOSED));
        return true;
    }

    /**
     * Waits until no call is in progress, at most {@code nanos} (every store call ends within the
     * operation timeout). Not interruptible: a close on an interrupted thread (a cancelled task's
     * try-with-resources) must still not close the store under a call; the interrupt is kept.
     *
     * @return whether the calls ended in time
     */
    boolean awaitIdle(long nanos) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + nanos;
        lock.lock();
        try {
            while (state.get() != CLOSED) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    idle.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return true;
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    IllegalStateException closedException() {
        return new IllegalStateException("this Dlm is closed (" + describeDlm.get() + ")");
    }
}
