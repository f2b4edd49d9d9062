package io.dlm4j.engine;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The production {@link Scheduler}: one daemon thread per Dlm. */
final class ExecutorScheduler implements Scheduler {

    private static final AtomicInteger NUMBER = new AtomicInteger();

    private final ScheduledThreadPoolExecutor executor;

    ExecutorScheduler() {
        String name = "dlm4j-scheduler-" + NUMBER.incrementAndGet();
        executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        });
        // expiry timers come and go with every refresh: cancelled ones must not pile up
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public Scheduled schedule(Runnable task, long delayNanos) {
        try {
            var future = executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        } catch (RejectedExecutionException e) {
            return Scheduled.NONE;
        }
    }

    @Override
    public void scheduleRepeating(Runnable task, long periodNanos) {
        try {
            executor.scheduleWithFixedDelay(task, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shut down: nothing to repeat
        }
    }

    @Override
    public void shutdown() {
        executor.shutdownNow();
    }
}
