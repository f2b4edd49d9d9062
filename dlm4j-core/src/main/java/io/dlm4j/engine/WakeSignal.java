package io.dlm4j.engine;

import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets a waiter sleep until a release notification arrives, its Dlm closes, or its pause is over.
 * A j.u.c lock, not a monitor: a virtual thread waiting here must not pin its carrier.
 */
final class WakeSignal implements AutoCloseable {

    private final Set<WakeSignal> registry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeArrived = lock.newCondition();
    private boolean woken; // guarded by lock

    /** A signal listed in {@code registry} (the Dlm's waiters) until closed. */
    WakeSignal(Set<WakeSignal> registry) {
        this.registry = registry;
        registry.add(this);
    }

    /** The waiter is done with it. */
    @Override
    public void close() {
        registry.remove(this);
    }

    /** Whether a wake arrived that no wait has taken yet. */
    boolean hasUnusedWake() {
        lock.lock();
        try {
            return woken;
        } finally {
            lock.unlock();
        }
    }

    void wake() {
        lock.lock();
        try {
            woken = true;
            wakeArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code nanos} (real time), returning early if woken since the last wait. */
    void await(long nanos) throws InterruptedException {
        lock.lock();
        try {
            long left = nanos;
            while (!woken && left > 0) {
                left = wakeArrived.awaitNanos(left);
            }
            woken = false;
        } finally {
            lock.unlock();
        }
    }
}
