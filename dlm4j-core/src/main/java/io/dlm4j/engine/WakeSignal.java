package io.dlm4j.engine;

import java.util.Set;

/** Lets a waiter sleep until a release notification arrives, its Dlm closes, or its pause is over. */
final class WakeSignal implements AutoCloseable {

    private final Set<WakeSignal> registry;
    private boolean woken;

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
    synchronized boolean hasUnusedWake() {
        return woken;
    }

    synchronized void wake() {
        woken = true;
        notifyAll();
    }

    /** Waits up to {@code nanos}, returning early if woken since the last wait. */
    synchronized void await(long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        long left = nanos;
        while (!woken && left > 0) {
            wait(left / 1_000_000, (int) (left % 1_000_000));
            left = deadline - System.nanoTime();
        }
        woken = false;
    }
}
