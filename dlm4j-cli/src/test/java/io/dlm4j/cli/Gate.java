package io.dlm4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Where a fake backend call stops until the test lets it go, as a call to a slow backend does;
 * a gate that is not shut lets every call through.
 */
final class Gate {

    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch opened = new CountDownLatch(1);
    private volatile boolean shut;
    private volatile boolean interrupted;

    /** From now on a call waits here until {@link #open()}. */
    Gate shut() {
        shut = true;
        return this;
    }

    void open() {
        opened.countDown();
    }

    /** Called by the fake: returns at once if the gate is not shut, else when it is opened. */
    void pass() {
        reached.countDown();
        if (!shut) {
            return;
        }
        try {
            opened.await();
        } catch (InterruptedException e) {
            interrupted = true;
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (at most 30 s) until a call has reached the gate. */
    void awaitReached() throws InterruptedException {
        if (!reached.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("no call reached the gate");
        }
    }

    boolean reached() {
        return reached.getCount() == 0;
    }

    /** Whether a call waiting here was interrupted (by a signal handler that should have left it alone). */
    boolean interrupted() {
        return interrupted;
    }
}
