package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * One {@code dlm4j run} on an open Dlm: takes the lock, runs the program under it and passes its
 * exit code on, reports (and with --kill-on-loss acts on) a lost lock, stops the program on
 * SIGINT/SIGTERM through {@link #onShutdown()}, and releases the lock and closes the Dlm once.
 * Three threads meet here: the one that calls {@link #run()}, the shutdown hook and the thread
 * that runs the lease's onLost callback.
 */
final class SupervisedRun {

    private final Dlm dlm;
    private final RunSettings settings;
    private final PrintStream err;
    private final Acquisition acquisition;
    private final ProcessStopper stopper;
    private final Thread mainThread;

    // ---- state shared with the shutdown hook and the onLost callback, guarded by 'this' ----
    // Never held over a call to the backend, which may take up to the operation timeout: neither a
    // lost lease nor a signal should wait for the network to look at this state.
    private Lease lease;
    private Process child;
    private boolean stopping;
    private boolean releaseTaken;
    private volatile boolean lost;

    /** Open until the lock is released and the Dlm closed by the thread that took the release. */
    private final CountDownLatch released = new CountDownLatch(1);

    /** To be made on the thread that calls {@link #run()}: the shutdown hook interrupts it to end a wait. */
    SupervisedRun(Dlm dlm, RunSettings settings, PrintStream err) {
        this.dlm = dlm;
        this.settings = settings;
        this.err = err;
        this.acquisition = new Acquisition(settings, err);
        this.stopper = new ProcessStopper(settings.grace(), err, () -> !isStopping() || !settings.quiet());
        this.mainThread = Thread.currentThread();
    }

    /** The program's exit code, or 75 if the lock was not acquired or a signal came first; releases in any case. */
    int run() {
        try {
            Mutex mutex = dlm.newMutex(settings.lock());
            Lease acquired = keep(acquisition.acquire(mutex));
            if (acquired == null) {
                return ExitCodes.NOT_ACQUIRED; // a signal came while acquiring: the hook does the rest
            }
            return runProgram(acquired);
        } catch (InterruptedException e) {
            return ExitCodes.NOT_ACQUIRED; // the hook ended the wait for the lock
        } catch (RuntimeException e) {
            if (isStopping()) {
                return ExitCodes.NOT_ACQUIRED; // the hook closed the Dlm under us
            }
            throw e;
        } finally {
            cleanUp();
        }
    }

    /** The lease, kept for the release; null if a signal came while it was being acquired. */
    private synchronized Lease keep(Lease acquired) {
        lease = acquired;
        if (stopping) {
            return null;
        }
        return acquired;
    }

    private int runProgram(Lease acquired) throws InterruptedException {
        acquired.onLost(() -> onLost(acquired));
        ProcessBuilder builder = new ProcessBuilder(settings.command()).inheritIO();
        Map<String, String> env = builder.environment();
        env.put("DLM4J_KEY", acquired.key());
        env.put("DLM4J_OWNER", acquired.owner());
        env.put("DLM4J_FENCING_TOKEN", Long.toString(acquired.fencingToken()));
        Process process;
        synchronized (this) {
            if (stopping || lost) {
                return lost ? ExitCodes.NOT_ACQUIRED : ExitCodes.OK;
            }
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new CliException(ExitCodes.NOT_FOUND, "cannot run '" + settings.command().get(0) + "': "
                        + Text.oneLine(e.getMessage()), e);
            }
            child = process;
        }
        int exit = process.waitFor();
        if (lost && settings.killOnLoss()) {
            err.println("dlm4j: the program was stopped because the lock '" + settings.key() + "' was lost; "
                    + "its exit code: " + exit);
        }
        return exit;
    }

    private void onLost(Lease lostLease) {
        lost = true;
        if (isStopping()) {
            return;
        }
        err.println("dlm4j: lost the lock '" + settings.key() + "' (token " + lostLease.fencingToken() + ")"
                + (settings.killOnLoss() ? "; stopping the program (--kill-on-loss)"
                : "; the program goes on (--kill-on-loss would stop it)"));
        if (settings.killOnLoss()) {
            Process p;
            synchronized (this) {
                p = child;
            }
            if (p != null) {
                // not on the callback's thread, which is the Dlm's and may be needed for other callbacks
                Thread killer = new Thread(() -> stopper.stop(p), "dlm4j-kill-on-loss");
                killer.setDaemon(true);
                killer.start();
            }
        }
    }

    /**
     * The shutdown hook: on SIGINT/SIGTERM, or at the normal exit (then it finds nothing to do).
     * Returns once the lock is released, whichever thread releases it.
     */
    void onShutdown() {
        boolean runIsOver;
        Process p;
        synchronized (this) {
            runIsOver = releaseTaken;
            if (!runIsOver) {
                stopping = true;
            }
            p = child;
        }
        if (runIsOver) {
            // done at the normal exit; else the JVM must not exit in the middle of the release
            awaitRelease();
            return;
        }
        if (p == null) {
            mainThread.interrupt(); // ends a wait for the lock
        } else {
            stopper.stop(p);
        }
        cleanUp();
    }

    synchronized boolean isStopping() {
        return stopping;
    }

    /**
     * Releases the lock and closes the Dlm, once, by whichever thread comes first; a second caller
     * waits for that release to end. What to release is taken out of the shared state under the
     * monitor, and released outside it.
     */
    private void cleanUp() {
        boolean mine;
        Lease toRelease = null;
        synchronized (this) {
            mine = !releaseTaken;
            if (mine) {
                releaseTaken = true;
                toRelease = lease;
                lease = null;
            }
        }
        if (!mine) {
            awaitRelease();
            return;
        }
        try {
            release(toRelease);
        } finally {
            released.countDown();
        }
    }

    /** Both calls go to the backend. */
    private void release(Lease toRelease) {
        if (toRelease != null) {
            try {
                toRelease.close();
            } catch (RuntimeException e) {
                err.println("dlm4j: could not release '" + settings.key() + "' (it expires within "
                        + Text.duration(settings.ttl()) + "): " + Text.oneLine(e.getMessage()));
            }
        }
        try {
            dlm.close();
        } catch (RuntimeException e) {
            if (Dlm4jCommand.verbose()) {
                err.println("dlm4j: closing the backend client failed: " + Text.oneLine(e.getMessage()));
            }
        }
    }

    /**
     * Not cut short by an interrupt: the shutdown hook interrupts the main thread to end its wait
     * for the lock, not this wait (the release the main thread waits for is the hook's own).
     */
    private void awaitRelease() {
        boolean interrupted = false;
        while (true) {
            try {
                released.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
