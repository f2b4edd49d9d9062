package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** A {@link Mutex} on a {@link io.dlm4j.spi.LockStore}: the wait loop and the acquire attempt live here. */
final class StoreMutex implements Mutex {

    private static final Logger LOG = LoggerFactory.getLogger(StoreMutex.class);

    /** Waking a little after the holder's expiry spares one futile try on a clock tick boundary. */
    private static final long EXPIRY_MARGIN_NANOS = Duration.ofMillis(2).toNanos();

    private final StoreBackedDlm dlm;
    private final String key;
    private final String owner;
    private final Duration ttl;
    private final boolean autoRefresh;

    StoreMutex(StoreBackedDlm dlm, String key, String owner, Duration ttl, boolean autoRefresh) {
        this.dlm = dlm;
        this.key = key;
        this.owner = owner;
        this.ttl = ttl;
        this.autoRefresh = autoRefresh;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public String owner() {
        return owner;
    }

    @Override
    public Duration ttl() {
        return ttl;
    }

    boolean autoRefresh() {
        return autoRefresh;
    }

    @Override
    public Lease lock() throws InterruptedException {
        return acquireWaiting(Long.MAX_VALUE);
    }

    @Override
    public Lease lock(Duration maxWait) throws InterruptedException {
        Objects.requireNonNull(maxWait, "maxWait must not be null");
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
        }
        return acquireWaiting(saturatedNanos(maxWait));
    }

    @Override
    public Optional<Lease> tryLock() {
        try {
            return Optional.ofNullable(attempt(false).lease);
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible attempt was interrupted", e);
        }
    }

    @Override
    public void unlock() {
        dlm.release(key, owner);
    }

    @Override
    public Optional<LockInfo> holder() {
        Instant before = dlm.options().clock().instant();
        Optional<StoredHold> hold = dlm.gate().call(() -> dlm.store().read(key));
        return hold.map(h -> new LockInfo(key, h.owner(), h.fencingToken(), before.plus(h.remaining())));
    }

    @Override
    public String toString() {
        return "Mutex{key=" + key + ", owner=" + owner + ", ttl=" + ttl + ", autoRefresh=" + autoRefresh + '}';
    }

    /** The whole wait is one call of the Dlm's: closing it wakes the wait and lets it leave before the store closes. */
    private Lease acquireWaiting(long maxWaitNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before waiting for '" + key + "'");
        }
        dlm.gate().enter();
        try {
            return waitForLock(maxWaitNanos);
        } finally {
            dlm.gate().exit();
        }
    }

    private Lease waitForLock(long maxWaitNanos) throws InterruptedException {
        long start = dlm.ticker().read();
        Attempt attempt = attemptInterruptibly();
        if (attempt.lease != null || maxWaitNanos == 0) {
            return acquiredOrTimedOut(attempt, maxWaitNanos);
        }
        // Held: listen for the release, then try again before the first wait, so that a release
        // between the first try and the subscription is not missed. An uncontended lock() is one try.
        WakeSignal signal = dlm.newWakeSignal();
        try (WakeSignal registered = signal; Subscription inLine = dlm.releaseNotices().join(key, signal)) {
            while (true) {
                dlm.ensureOpen(); // a Dlm closed under a waiter ends the wait
                attempt = attemptInterruptibly();
                long left = maxWaitNanos - (dlm.ticker().read() - start);
                if (attempt.lease != null || left <= 0) {
                    return acquiredOrTimedOut(attempt, maxWaitNanos);
                }
                signal.await(Math.min(left, pauseBeforeNextTry(attempt.holder)));
            }
        }
    }

    private Lease acquiredOrTimedOut(Attempt attempt, long maxWaitNanos) {
        if (attempt.lease != null) {
            return attempt.lease;
        }
        throw new LockTimeoutException("lock '" + key + "' for owner '" + owner + "' not acquired within "
                + Duration.ofNanos(maxWaitNanos) + ": held by '" + attempt.holder.owner() + "' for "
                + attempt.holder.remaining() + " more");
    }

    /** At most the waiting interval, with jitter so that waiters don't stampede; less if the hold ends sooner. */
    private long pauseBeforeNextTry(StoredHold holder) {
        long interval = dlm.options().waitingInterval().toNanos();
        long jittered = interval / 2 + ThreadLocalRandom.current().nextLong(interval / 2 + 1);
        long untilExpiry = holder.remaining().toNanos();
        if (untilExpiry > 0) {
            return Math.max(1, Math.min(jittered, untilExpiry + EXPIRY_MARGIN_NANOS));
        }
        return Math.max(1, jittered);
    }

    private Attempt attemptInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while waiting for '" + key + "'");
        }
        try {
            return attempt(true);
        } catch (RuntimeException e) {
            if (dlm.isClosed()) {
                // closing is the news, even if the failure was translated before the close began;
                // the interrupt flag, if any, stays set
                throw e instanceof IllegalStateException ? e
                        : new IllegalStateException("this Dlm was closed while '" + key + "' was being acquired", e);
            }
            if (Thread.interrupted()) {
                // the client library gave up on the interrupt; attempt() has undone what it could
                InterruptedException interrupted = new InterruptedException("interrupted while acquiring '" + key + "'");
                interrupted.initCause(e);
                throw interrupted;
            }
            throw e;
        }
    }

    /**
     * One try, in the holder's serial section of this Dlm: no other acquire or release of this
     * key and owner runs here meanwhile, so a failed try can tell whether the hold it may have
     * created is shared by a lease of this Dlm.
     */
    private Attempt attempt(boolean interruptibly) throws InterruptedException {
        List<Runnable> lostCallbacks = new ArrayList<>();
        try {
            return attempt(interruptibly, lostCallbacks);
        } finally {
            lostCallbacks.forEach(dlm::runCallback); // outside the section: a callback may unlock the key
        }
    }

    private Attempt attempt(boolean interruptibly, List<Runnable> lostCallbacks) throws InterruptedException {
        dlm.gate().enter();
        try (Holders.Section serial = dlm.holders().enter(key, owner, interruptibly)) {
            if (dlm.isClosed()) {
                // queued behind a call that the close waited for: send nothing more to the store
                throw new IllegalStateException("this Dlm was closed while '" + key + "' was waiting to be acquired");
            }
            String attemptId = AttemptIds.next();
            ValidityStart start = dlm.validityStart();
            Acquisition acquisition = dlm.store().acquire(key, owner, ttl, attemptId,
                    failure -> undo(attemptId, failure));
            if (!acquisition.isOurs()) {
                return new Attempt(null, acquisition.hold());
            }
            StoredHold hold = acquisition.hold();
            if (start.nanos() + saturatedNanos(hold.remaining()) - dlm.ticker().read() <= 0) {
                warnOfLateGrant(hold, start);
            }
            StoreLease lease = dlm.admit(this, hold, start, lostCallbacks);
            if (dlm.isClosed()) {
                // close() waits for this call before its sweep. The call fails, so it leaves what it
                // found: a hold it created is undone, a hold the owner had before (a relock) stays.
                lease.markReleased();
                if (acquisition.outcome() == Acquisition.Outcome.ACQUIRED) {
                    undoWhileClosing(attemptId);
                }
                throw new IllegalStateException("this Dlm was closed while '" + key + "' was being acquired");
            }
            return new Attempt(lease, hold);
        } finally {
            dlm.gate().exit();
        }
    }

    /**
     * The acquire failed without a reply: the store may still have applied it. Undoes only what
     * this attempt created, with the interrupt flag cleared (a client library refuses to wait on
     * an interrupted thread) and set again afterwards.
     */
    private void undo(String attemptId, RuntimeException failure) {
        boolean interrupted = Thread.interrupted();
        try {
            LockStore.Undo undone = dlm.store().undoAcquire(key, owner, attemptId);
            if (undone == LockStore.Undo.UNSUPPORTED && interrupted && !dlm.holders().holdsLiveLease(key, owner)) {
                // no mark to tell by: a lease of this Dlm on the hold means it existed before this attempt
                dlm.store().releaseUndoingAcquire(key, owner);
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
            LOG.warn("{}: undoing the failed acquire of '{}' failed; a hold it made lasts until its ttl",
                    dlm.store().describe(), key, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The store granted the hold, but its reply came when the time it promised, counted from
     * before the request, was over: the lease is invalid at birth. It is returned all the same
     * (retrying could never end for a ttl shorter than the round trip, and the caller's
     * {@code isValid()} says the truth); the warning says why.
     */
    private void warnOfLateGrant(StoredHold hold, ValidityStart start) {
        LOG.warn("{}: the acquire of '{}' was answered after {}, when the {} it was granted for were over: "
                        + "its lease is invalid from the start; the ttl is short for this backend's latency",
                dlm.store().describe(), key, Duration.ofNanos(dlm.ticker().read() - start.nanos()), hold.remaining());
    }

    private void undoWhileClosing(String attemptId) {
        TranslatingStore closing = dlm.store().whileClosing();
        if (closing.undoAcquire(key, owner, attemptId) == LockStore.Undo.UNSUPPORTED) {
            // the reply said this attempt created the hold, and no other acquire of the holder runs in this Dlm
            closing.releaseUndoingAcquire(key, owner);
        }
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private record Attempt(StoreLease lease, StoredHold holder) {
    }
}
