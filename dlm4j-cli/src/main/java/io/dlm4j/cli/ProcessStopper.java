package io.dlm4j.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Stops {@code dlm4j run}'s program as a service manager would: SIGTERM, so that it can clean up,
 * then SIGKILL to it and what it started if it has not exited within {@code --grace}.
 */
final class ProcessStopper {

    /** How long to wait for a SIGKILLed program to be gone; the kernel needs no more. */
    private static final long AFTER_KILL_SECONDS = 5;

    private final Duration grace;
    private final PrintStream err;
    private final BooleanSupplier sayWhenKilling;

    /**
     * @param sayWhenKilling asked at the moment of the SIGKILL, since a signal to dlm4j (after which
     *                       --quiet keeps it silent) may come while the program is being stopped
     */
    ProcessStopper(Duration grace, PrintStream err, BooleanSupplier sayWhenKilling) {
        this.grace = grace;
        this.err = err;
        this.sayWhenKilling = sayWhenKilling;
    }

    /** Returns when the program has exited, or SIGKILL did not end it in time, or this thread is interrupted. */
    void stop(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                if (sayWhenKilling.getAsBoolean()) {
                    err.println("dlm4j: the program did not exit within " + Text.duration(grace) + " of SIGTERM; "
                            + "sending SIGKILL");
                }
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(AFTER_KILL_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
