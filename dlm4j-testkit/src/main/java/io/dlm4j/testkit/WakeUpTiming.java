package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.Mutex;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How long a waiter takes to acquire after a release: the measurement behind every backend's
 * push wake-up bound. The waiter's lock() runs on a thread of the caller's pool and releases at
 * once, so that the next round starts clean; its moment of acquiring is taken on that thread, right
 * after lock() returns.
 */
public final class WakeUpTiming {

    private WakeUpTiming() {
    }

    /** Starts {@code mutex.lock()} on one of {@code threads}; the future gives when it acquired, in {@link System#nanoTime()}. */
    public static Future<Long> lockInBackground(ExecutorService threads, Mutex mutex) {
        return threads.submit(() -> {
            Lease lease = mutex.lock();
            long acquiredAt = System.nanoTime();
            lease.close();
            return acquiredAt;
        });
    }

    /** Closes {@code held} and returns how long after the close began {@code waiter} acquired. */
    public static Duration latencyOfUnlock(Lease held, Future<Long> waiter, Duration within)
            throws InterruptedException, ExecutionException, TimeoutException {
        long unlockAt = System.nanoTime();
        held.close();
        return Duration.ofNanos(waiter.get(within.toNanos(), TimeUnit.NANOSECONDS) - unlockAt);
    }
}
