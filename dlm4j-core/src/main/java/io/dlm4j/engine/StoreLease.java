package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.spi.HoldToRefresh;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One hold. Its state moves once, from active to released or to lost; refreshes and the release
 * run under one lock, so that a released lease is never refreshed again.
 *
 * <p>Validity is kept twice: {@link #expiresAt()} on the Dlm's clock, for people to read, and a
 * deadline on the monotonic clock, which decides {@link #isValid()}: a wall clock set back must
 * not make an expired hold look valid.
 */
final class StoreLease implements Lease {

    private static final Logger LOG = LoggerFactory.getLogger(StoreLease.class);

    private enum State { ACTIVE, RELEASED, LOST }

    private final StoreBackedDlm dlm;
    private final StoreMutex mutex;
    private final long fencingToken;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Runnable> lostCallbacks = new ArrayList<>();
    private volatile Instant expiresAt;
    private volatile long validUntilNanos;
    private volatile State state = State.ACTIVE;
    private volatile boolean autoRefresh;

    StoreLease(StoreBackedDlm dlm, StoreMutex mutex, long fencingToken, ValidityStart start, Duration validity) {
        this.dlm = dlm;
        this.mutex = mutex;
        this.fencingToken = fencingToken;
        extend(start, validity);
    }

    @Override
    public String key() {
        return mutex.key();
    }

    @Override
    public String owner() {
        return mutex.owner();
    }

    @Override
    public long fencingToken() {
        return fencingToken;
    }

    @Override
    public Instant expiresAt() {
        return expiresAt;
    }

    @Override
    public boolean isValid() {
        return state == State.ACTIVE && !isPastExpiry();
    }

    @Override
    public boolean refresh() {
        if (!lockIfActive()) {
            return false;
        }
        List<Runnable> callbacks;
        boolean held;
        try {
            ValidityStart start = ValidityStart.now(dlm.options().clock());
            Optional<Duration> validity = dlm.backend().call("refresh of '" + key() + "'",
                    () -> dlm.store().refresh(key(), owner(), mutex.ttl()));
            held = validity.isPresent();
            callbacks = applyRefresh(start, validity);
        } finally {
            lock.unlock();
        }
        callbacks.forEach(StoreLease::runCallback);
        return held;
    }

    @Override
    public void onLost(Runnable callback) {
        Objects.requireNonNull(callback, "callback must not be null");
        boolean runNow;
        lock.lock();
        try {
            runNow = state == State.LOST;
            if (state == State.ACTIVE) {
                lostCallbacks.add(callback);
            }
        } finally {
            lock.unlock();
        }
        if (runNow) {
            runCallback(callback);
        }
    }

    @Override
    public void close() {
        if (markReleased()) {
            dlm.backend().call("release of '" + key() + "'", () -> dlm.store().release(key(), owner()));
        }
    }

    /** Ends this lease without touching the store; true if it was active. */
    boolean markReleased() {
        lock.lock();
        try {
            if (state != State.ACTIVE) {
                return false;
            }
            state = State.RELEASED;
            lostCallbacks.clear();
        } finally {
            lock.unlock();
        }
        forget();
        return true;
    }

    void startAutoRefresh() {
        autoRefresh = true;
        if (state == State.ACTIVE) {
            dlm.refresher().schedule(this);
        }
    }

    boolean isAutoRefreshed() {
        return autoRefresh && state == State.ACTIVE;
    }

    Duration refreshPeriod() {
        return Duration.ofNanos(Math.max(1, mutex.ttl().toNanos() / 3));
    }

    HoldToRefresh holdToRefresh() {
        return new HoldToRefresh(key(), owner(), mutex.ttl());
    }

    /**
     * Takes this lease's lock if it is still active, so that a batch refresh and a release can't
     * interleave; the caller unlocks with {@link #unlock()}.
     */
    boolean lockIfActive() {
        lock.lock();
        if (state == State.ACTIVE) {
            return true;
        }
        lock.unlock();
        return false;
    }

    void unlock() {
        lock.unlock();
    }

    /** With the lock held: records a refresh's outcome; returns the lost callbacks to run once unlocked. */
    List<Runnable> applyRefresh(ValidityStart start, Optional<Duration> validity) {
        if (validity.isPresent()) {
            extend(start, validity.get());
            return List.of();
        }
        return markLost();
    }

    /**
     * With the lock held: a background refresh failed and will be retried; the hold counts as lost
     * only once it has expired.
     */
    List<Runnable> applyFailedRefresh(RuntimeException failure) {
        if (isPastExpiry()) {
            LOG.warn("lease of '{}' for '{}' expired while its refreshes failed", key(), owner(), failure);
            return markLost();
        }
        return List.of();
    }

    private void extend(ValidityStart start, Duration validity) {
        expiresAt = start.instant().plus(validity);
        validUntilNanos = start.nanos() + saturatedNanos(validity);
    }

    private boolean isPastExpiry() {
        return System.nanoTime() - validUntilNanos >= 0;
    }

    /** Called with the lock held and the state active; returns the callbacks to run once unlocked. */
    private List<Runnable> markLost() {
        state = State.LOST;
        List<Runnable> callbacks = List.copyOf(lostCallbacks);
        lostCallbacks.clear();
        forget();
        return callbacks;
    }

    private void forget() {
        mutex.forget(this);
        dlm.unregister(this);
    }

    static void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.warn("an onLost callback failed", e);
        }
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    @Override
    public String toString() {
        return "Lease{key=" + key() + ", owner=" + owner() + ", fencingToken=" + fencingToken
                + ", expiresAt=" + expiresAt + ", state=" + state + '}';
    }
}
