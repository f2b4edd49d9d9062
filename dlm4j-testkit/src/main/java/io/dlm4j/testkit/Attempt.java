package io.dlm4j.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A task of a conformance test on a thread of its own, with its outcome and the moment it
 * finished. Started by {@link ConformanceFixture#inBackground}, which interrupts and joins it after
 * the test.
 */
public final class Attempt<T> {
    private final String name;
    private final Thread thread;
    private final CompletableFuture<T> outcome = new CompletableFuture<>();
    private volatile long finishedNanos;

    Attempt(String name, Callable<T> task) {
        this.name = name;
        this.thread = TestThreads.newThread("conformance-" + name, () -> {
            try {
                T value = task.call();
                finishedNanos = System.nanoTime();
                outcome.complete(value);
            } catch (Throwable e) {
                finishedNanos = System.nanoTime();
                outcome.completeExceptionally(e);
            }
        });
    }

    String name() {
        return name;
    }

    public Thread thread() {
        return thread;
    }

    public boolean isDone() {
        return outcome.isDone();
    }

    boolean isBlocked() {
        Thread.State state = thread.getState();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
    }

    /** When the task finished, on {@link System#nanoTime()}. */
    public long finishedNanos() {
        return finishedNanos;
    }

    /** The task's result; fails the test if it threw or did not finish in time. */
    public T get(Duration within) throws InterruptedException {
        try {
            return outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(name + " failed", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(name + " did not finish within " + within);
        }
    }

    /** What the task threw, or null if it returned; fails the test if it did not finish in time. */
    public Throwable failureOrNull(Duration within) throws InterruptedException {
        try {
            outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError(name + " did not finish within " + within);
        }
    }

    /** What the task threw; fails the test if it returned or did not finish in time. */
    public Throwable failure(Duration within) throws InterruptedException {
        try {
            T value = outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
            throw new AssertionError(name + " should have failed, but returned " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError(name + " did not finish within " + within);
        }
    }
}
