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
 * One lease of a hold. Its state moves once, from active to released or to lost, under its lock;
 * store calls are never made under that lock, so a slow backend never holds up a release.
 *
 * <p>Validity is kept twice: {@link #expiresAt()} on the Dlm's clock, for people to read, and a
 * deadline on the engine's monotonic {@link Ticker}, which decides {@link #isValid()}: a wall
 * clock set back must not make an expired hold look valid.
 *
 * <p>An expiry timer runs at the local deadline: it marks an auto-refreshed lease lost there (its
 * refreshes failed: waiting for the end of a late refresh round would report the loss late), and
 * makes the Dlm forget any other lease that expired without being closed.
 */
final class StoreLease implements Lease {

    private static final Logger LOG = LoggerFactory.getLogger(StoreLease.class);

    /**
     * EXPIRED: past its local expiry without auto-refresh, and forgotten by the Dlm. It no longer
     * vouches for a hold: it is never extended again, and its refresh() reports the loss.
     */
    private enum State { ACTIVE, EXPIRED, RELEASED, LOST }

    private final StoreBackedDlm dlm;
    private final StoreMutex mutex;
    private final long fencingToken;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Runnable> lostCallbacks = new ArrayList<>(); // guarded by lock
    private volatile Instant expiresAt;
    private volatile long validUntilNanos;
    private volatile State state = State.ACTIVE;
    private volatile boolean autoRefresh;
    private Scheduler.Scheduled expiryTimer = Scheduler.Scheduled.NONE; // guarded by lock
    private boolean remembered; // guarded by lock: listed in the Dlm's holders

    StoreLease(StoreBackedDlm dlm, StoreMutex mutex, long fencingToken, ValidityStart start, Duration validity) {
        this.dlm = dlm;
        this.mutex = mutex;
        this.fencingToken = fencingToken;
        this.autoRefresh = mutex.autoRefresh();
        setValidity(start, validity);
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
        if (state == State.EXPIRED) {
            takeLost("it expired before this refresh").forEach(StoreLease::runCallback);
            return false;
        }
        if (state != State.ACTIVE || dlm.isClosed()) {
            return false;
        }
        ValidityStart start = dlm.validityStart();
        Optional<Duration> validity;
        try {
            validity = dlm.gate().call(() -> dlm.store().refresh(key(), owner(), mutex.ttl()));
        } catch (IllegalStateException e) {
            if (dlm.isClosed()) {
                return false; // the close releases the hold
            }
            throw e;
        }
        // a loss this call found is the caller's news: its callbacks run here, before refresh() returns
        dlm.refreshed(this, start, validity, StoreLease::runCallback);
        return validity.isPresent() && state == State.ACTIVE;
    }

    /**
     * {@inheritDoc}
     *
     * <p>A loss found in the background runs the callback on the Dlm's callback executor
     * ({@link io.dlm4j.DlmOptions#callbackExecutor()}); one found by {@link #refresh()} runs it on
     * the thread that called refresh, before it returns; a lease already lost runs it at once on
     * the calling thread.
     */
    @Override
    public void onLost(Runnable callback) {
        Objects.requireNonNull(callback, "callback must not be null");
        boolean runNow;
        lock.lock();
        try {
            runNow = state == State.LOST;
            if (state == State.ACTIVE || state == State.EXPIRED) {
                lostCallbacks.add(callback);
            }
        } finally {
            lock.unlock();
        }
        if (runNow) {
            runCallback(callback);
        }
    }

    /**
     * Ends the hold: this lease and every other lease of its key and owner in this Dlm. On a
     * closed Dlm it only ends this lease (the close released the hold).
     */
    @Override
    public void close() {
        if (state == State.ACTIVE || state == State.EXPIRED) {
            dlm.release(this);
        }
    }

    /** Ends this lease without touching the store; true if it was active. No callback runs. */
    boolean markReleased() {
        lock.lock();
        try {
            if (state != State.ACTIVE && state != State.EXPIRED) {
                return false;
            }
            state = State.RELEASED;
            lostCallbacks.clear();
            endLocked();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /**
     * Marks this lease lost, if it is active, and hands its callbacks to the Dlm's callback
     * executor.
     */
    void markLost(String why) {
        takeLost(why).forEach(dlm::runCallback);
    }

    /** Marks this lease lost, if it is active; returns its callbacks for the caller to run. */
    List<Runnable> takeLost(String why) {
        List<Runnable> callbacks;
        lock.lock();
        try {
            if (state != State.ACTIVE && state != State.EXPIRED) {
                return List.of();
            }
            state = State.LOST;
            callbacks = List.copyOf(lostCallbacks);
            lostCallbacks.clear();
            endLocked();
        } finally {
            lock.unlock();
        }
        LOG.debug("lease of '{}' for '{}' (token {}) lost: {}", key(), owner(), fencingToken, why);
        return callbacks;
    }

    /** The store says the hold lasts {@code validity} from {@code start}: this lease says so too. */
    void extend(ValidityStart start, Duration validity) {
        lock.lock();
        try {
            if (state != State.ACTIVE) {
                return;
            }
            setValidity(start, validity);
        } finally {
            lock.unlock();
        }
    }

    /** Lists this new lease in the Dlm and starts its expiry timer. */
    void start() {
        lock.lock();
        try {
            if (state == State.ACTIVE) {
                remember();
            }
        } finally {
            lock.unlock();
        }
        if (autoRefresh) {
            dlm.refresher().schedule(this);
        }
    }

    boolean isActive() {
        return state == State.ACTIVE;
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

    /** With the lock held. */
    private void remember() {
        remembered = true;
        dlm.holders().add(this);
        armExpiryTimer();
    }

    /** With the lock held. */
    private void armExpiryTimer() {
        expiryTimer.cancel();
        long delay = validUntilNanos - dlm.ticker().read();
        expiryTimer = dlm.scheduler().schedule(this::onExpiryTimer, delay);
    }

    private void onExpiryTimer() {
        boolean lost = false;
        lock.lock();
        try {
            if (state != State.ACTIVE) {
                return;
            }
            if (!isPastExpiry()) {
                armExpiryTimer(); // extended since the timer was set
                return;
            }
            if (autoRefresh) {
                lost = true;
            } else {
                // expired without being closed: the Dlm forgets it, and it never comes back (an
                // unlock or a new token it can no longer see must not be undone by a late refresh)
                state = State.EXPIRED;
                endLocked();
            }
        } finally {
            lock.unlock();
        }
        if (lost) {
            LOG.warn("lease of '{}' for '{}' expired before a refresh confirmed it", key(), owner());
            markLost("expired while auto-refreshing");
        }
    }

    /** With the lock held: the lease has ended; the Dlm forgets it. */
    private void endLocked() {
        expiryTimer.cancel();
        expiryTimer = Scheduler.Scheduled.NONE;
        if (remembered) {
            remembered = false;
            dlm.holders().remove(this);
        }
    }

    private void setValidity(ValidityStart start, Duration validity) {
        expiresAt = start.instant().plus(validity);
        validUntilNanos = start.nanos() + saturatedNanos(validity);
    }

    private boolean isPastExpiry() {
        return dlm.ticker().read() - validUntilNanos >= 0;
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
