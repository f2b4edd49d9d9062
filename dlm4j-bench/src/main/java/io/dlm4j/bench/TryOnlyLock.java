package io.dlm4j.bench;

/** A lock for uncontended runs that must get the lock at the first try (the raw commands, ShedLock). */
final class TryOnlyLock implements LockClient.LockHandle {

    private final PollingLock.Attempt attempt;
    private final String key;

    TryOnlyLock(PollingLock.Attempt attempt, String key) {
        this.attempt = attempt;
        this.key = key;
    }

    @Override
    public void lock() throws Exception {
        if (!attempt.tryLock()) {
            throw new IllegalStateException("'" + key + "' was held by someone else in an uncontended run");
        }
    }

    @Override
    public void unlock() throws Exception {
        attempt.unlock();
    }
}
