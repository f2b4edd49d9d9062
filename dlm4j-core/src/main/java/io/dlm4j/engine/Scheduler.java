package io.dlm4j.engine;

/**
 * Runs the engine's timed work: refresh rounds, expiry timers, housekeeping. A seam for tests,
 * which run due tasks by hand on a ticker of their own.
 */
interface Scheduler {

    /** A scheduled task; cancelling one that ran or was cancelled does nothing. */
    @FunctionalInterface
    interface Scheduled {
        Scheduled NONE = () -> { };

        void cancel();
    }

    /**
     * Runs {@code task} once, {@code delayNanos} from now. After {@link #shutdown()} the task never
     * runs and {@link Scheduled#NONE} is returned: the Dlm is closing and has released its leases.
     */
    Scheduled schedule(Runnable task, long delayNanos);

    /** Runs {@code task} every {@code periodNanos}, first after one period, until shut down. */
    void scheduleRepeating(Runnable task, long periodNanos);

    /** Stops running tasks; a task that is running finishes. */
    void shutdown();
}
