package io.dlm4j.torture;

import java.time.Duration;

/**
 * The bounds and timings of one run; every scenario of the run uses them.
 *
 * @param workers       worker JVMs alive at once (a killed one is replaced)
 * @param keys          lock keys the workers share
 * @param opsPerWorker  acquisitions a worker tries before it stops
 * @param seconds       a worker's time limit; it stops by itself after it
 * @param ttlMillis     the locks' ttl; no auto-refresh
 * @param maxWaitMillis each {@code lock(maxWait)}
 * @param operationTimeoutMillis {@code DlmOptions.operationTimeout}
 * @param workMaxMillis the critical section's "work" lasts 0 to this, at random
 * @param gapMinMillis  shortest time between two faults
 * @param gapMaxMillis  longest time between two faults
 */
record Settings(int workers, int keys, int opsPerWorker, int seconds, long ttlMillis, long maxWaitMillis,
                long operationTimeoutMillis, long workMaxMillis, long gapMinMillis, long gapMaxMillis) {

    static Settings quick() {
        return new Settings(5, 3, 400, 8, 1000, 3000, 2000, 150, 700, 1500);
    }

    static Settings full() {
        return new Settings(5, 3, 2000, 15, 1000, 3000, 2000, 150, 700, 2500);
    }

    /** An acquisition slower than this is stuck: its wait, one operation, a pause of the worker, slack. */
    Duration stuckBound() {
        return Duration.ofMillis(maxWaitMillis + operationTimeoutMillis + pauseMillis() + 5000);
    }

    /** How long pause-holder keeps a worker stopped: 1.5 x ttl. */
    long pauseMillis() {
        return ttlMillis * 3 / 2;
    }
}
