package io.dlm4j.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Runs scheduled tasks only when the test moves time on, on the thread that moves it. */
final class ManualScheduler implements Scheduler {

    private final ManualTicker ticker;
    private final List<Task> tasks = new ArrayList<>(); // guarded by this
    private long sequence;
    private boolean shutdown;

    private final class Task implements Scheduled {
        final Runnable work;
        final long atNanos;
        final long order;
        final long repeatNanos;
        volatile boolean cancelled;

        Task(Runnable work, long atNanos, long repeatNanos) {
            this.work = work;
            this.atNanos = atNanos;
            this.repeatNanos = repeatNanos;
            this.order = sequence++;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    ManualScheduler(ManualTicker ticker) {
        this.ticker = ticker;
    }

    @Override
    public synchronized Scheduled schedule(Runnable task, long delayNanos) {
        if (shutdown) {
            return Scheduled.NONE;
        }
        Task scheduled = new Task(task, ticker.read() + Math.max(0, delayNanos), 0);
        tasks.add(scheduled);
        return scheduled;
    }

    @Override
    public synchronized void scheduleRepeating(Runnable task, long periodNanos) {
        if (!shutdown) {
            tasks.add(new Task(task, ticker.read() + periodNanos, periodNanos));
        }
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
        tasks.clear();
    }

    synchronized boolean isShutdown() {
        return shutdown;
    }

    /** Moves the ticker on and runs every task that falls due, in order, on this thread. */
    void advance(Duration by) {
        ticker.advance(by);
        runDue();
    }

    /** Runs the tasks due now, and those they schedule for now. */
    void runDue() {
        while (true) {
            Task next;
            synchronized (this) {
                long now = ticker.read();
                next = tasks.stream()
                        .filter(t -> t.atNanos - now <= 0)
                        .min(Comparator.<Task>comparingLong(t -> t.atNanos).thenComparingLong(t -> t.order))
                        .orElse(null);
                if (next == null) {
                    return;
                }
                tasks.remove(next);
                if (next.repeatNanos > 0 && !next.cancelled && !shutdown) {
                    tasks.add(new Task(next.work, now + next.repeatNanos, next.repeatNanos));
                }
            }
            if (!next.cancelled) {
                next.work.run();
            }
        }
    }

    /** Tasks waiting, cancelled ones not counted. */
    synchronized long pending() {
        return tasks.stream().filter(t -> !t.cancelled).count();
    }
}
