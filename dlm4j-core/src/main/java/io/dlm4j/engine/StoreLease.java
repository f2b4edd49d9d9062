package io.dlm4j.engine;

import io.dlm4j.Lease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One hold. Its state moves once, from active to released or to lost; refreshes and the release
 * run under one lock, so that a released lease is never refreshed again.
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
    private volatile State state = State.ACTIVE;
    private ScheduledFuture<?> autoRefresh;

    StoreLease(StoreBackedDlm dlm, StoreMutex mutex, long fencingToken, Instant expiresAt) {
        this.dlm = dlm;
        this.mutex = mutex;
        this.fencingToken = fencingToken;
        this.expiresAt = expiresAt;
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
        return state == State.ACTIVE && dlm.options().clock().instant().isBefore(expiresAt);
    }

    @Override
    public boolean refresh() {
        List<Runnable> callbacks = List.of();
        boolean held = false;
        lock.lock();
        try {
            if (state != State.ACTIVE) {
                return false;
            }
            Instant before = dlm.options().clock().instant();
            Optional<Duration> validity = dlm.backend().call("refresh of '" + key() + "'",
                    () -> dlm.store().refresh(key(), owner(), mutex.ttl()));
            held = validity.isPresent();
            if (held) {
                expiresAt = before.plus(validity.get());
            } else {
                callbacks = markLost();
            }
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
            stopAutoRefresh();
        } finally {
            lock.unlock();
        }
        forget();
        return true;
    }

    void startAutoRefresh() {
        long period = Math.max(1, mutex.ttl().toNanos() / 3);
        lock.lock();
        try {
            if (state == State.ACTIVE) {
                autoRefresh = dlm.scheduler().scheduleWithFixedDelay(
                        this::refreshInBackground, period, period, TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private void refreshInBackground() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // A failed refresh is retried at the next period; the hold is lost only once it expired.
            if (isPastExpiry()) {
                LOG.warn("lease of '{}' for '{}' expired while its refreshes failed", key(), owner(), e);
                List<Runnable> callbacks = List.of();
                lock.lock();
                try {
                    if (state == State.ACTIVE) {
                        callbacks = markLost();
                    }
                } finally {
                    lock.unlock();
                }
                callbacks.forEach(StoreLease::runCallback);
            } else {
                LOG.warn("refresh of '{}' for '{}' failed; retrying until {}", key(), owner(), expiresAt, e);
            }
        }
    }

    private boolean isPastExpiry() {
        return !dlm.options().clock().instant().isBefore(expiresAt);
    }

    /** Called with the lock held and the state active; returns the callbacks to run once unlocked. */
    private List<Runnable> markLost() {
        state = State.LOST;
        stopAutoRefresh();
        List<Runnable> callbacks = List.copyOf(lostCallbacks);
        lostCallbacks.clear();
        forget();
        return callbacks;
    }

    private void stopAutoRefresh() {
        if (autoRefresh != null) {
            autoRefresh.cancel(false);
            autoRefresh = null;
        }
    }

    private void forget() {
        mutex.forget(this);
        dlm.unregister(this);
    }

    private static void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.warn("an onLost callback failed", e);
        }
    }

    @Override
    public String toString() {
        return "Lease{key=" + key() + ", owner=" + owner() + ", fencingToken=" + fencingToken
                + ", expiresAt=" + expiresAt + ", state=" + state + '}';
    }
}
