package io.dlm4j.bench;

import java.time.Duration;

/**
 * A lock in the style of the original Go package: try once, and while another owner holds the
 * lock sleep {@code waitingInterval} and try again. No notification of releases: this is the
 * baseline that handoff latency is compared against.
 */
final class PollingLock implements LockClient.LockHandle {

    /** The default of the Go package and of {@code DlmOptions.waitingInterval}. */
    static final Duration WAITING_INTERVAL = Duration.ofMillis(100);

    /** One try and the release, in the backend's raw commands. */
    interface Attempt {
        boolean tryLock() throws Exception;

        void unlock() throws Exception;
    }

    private final Attempt attempt;

    PollingLock(Attempt attempt) {
        this.attempt = attempt;
    }

    @Override
    public void lock() throws Exception {
        while (!attempt.tryLock()) {
            Thread.sleep(WAITING_INTERVAL.toMillis()); // the polling itself is what is measured
        }
    }

    @Override
    public void unlock() throws Exception {
        attempt.unlock();
    }
}
