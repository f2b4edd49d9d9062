package io.dlm4j.engine;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the calls in progress on a Dlm, so that closing it can let them end before the store
 * closes under them. Without it a call racing {@code close()} fails on the client library's own
 * shutdown ("rejected from ThreadPoolExecutor[Shutting down]") and reports that as a backend
 * failure, and an acquire that lands after the sweep of held leases leaves its hold behind.
 */
final class CallGate {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private int inProgress; // guarded by lock
    private volatile boolean closed;

    /** Counts a call in; throws if the Dlm is closed. Every successful enter is paired with {@link #exit()}. */
    void enter(String describeDlm) {
        lock.lock();
        try {
            if (closed) {
                throw closedException(describeDlm);
            }
            inProgress++;
        } finally {
            lock.unlock();
        }
    }

    void exit() {
        lock.lock();
        try {
            if (--inProgress == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Refuses new calls from now on; true the first time. */
    boolean close() {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no call is in progress, at most {@code nanos} (every store call ends within the
     * operation timeout); an interrupt ends the wait early and is kept.
     *
     * @return whether the calls ended in time
     */
    boolean awaitIdle(long nanos) {
        lock.lock();
        try {
            long left = nanos;
            while (inProgress > 0) {
                if (left <= 0) {
                    return false;
                }
                left = idle.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    static IllegalStateException closedException(String describeDlm) {
        return new IllegalStateException("this Dlm is closed (" + describeDlm + ")");
    }
}
