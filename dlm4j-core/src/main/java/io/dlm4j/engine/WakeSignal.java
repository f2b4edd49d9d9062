package io.dlm4j.engine;

/** Lets a waiter sleep until a release notification arrives or its pause is over. */
final class WakeSignal {

    private boolean woken;

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
