package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** A {@link Mutex} on a {@link io.dlm4j.spi.LockStore}: the wait loop lives here. */
final class StoreMutex implements Mutex {

    /** Waking a little after the holder's expiry spares one futile try on a clock tick boundary. */
    private static final long EXPIRY_MARGIN_NANOS = Duration.ofMillis(2).toNanos();

    private final StoreBackedDlm dlm;
    private final String key;
    private final String owner;
    private final Duration ttl;
    private final boolean autoRefresh;
    private final Set<StoreLease> leases = ConcurrentHashMap.newKeySet();

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
        dlm.ensureOpen();
        Attempt attempt = attempt();
        return Optional.ofNullable(attempt.lease);
    }

    @Override
    public void unlock() {
        dlm.ensureOpen();
        for (StoreLease lease : List.copyOf(leases)) {
            lease.markReleased();
        }
        dlm.backend().call("release of '" + key + "'", () -> dlm.store().release(key, owner));
    }

    @Override
    public Optional<LockInfo> holder() {
        dlm.ensureOpen();
        Instant before = dlm.options().clock().instant();
        Optional<StoredHold> hold = dlm.backend().call("read of '" + key + "'", () -> dlm.store().read(key));
        return hold.map(h -> new LockInfo(key, h.owner(), h.fencingToken(), before.plus(h.remaining())));
    }

    @Override
    public String toString() {
        return "Mutex{key=" + key + ", owner=" + owner + ", ttl=" + ttl + ", autoRefresh=" + autoRefresh + '}';
    }

    void forget(StoreLease lease) {
        leases.remove(lease);
    }

    private Lease acquireWaiting(long maxWaitNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before waiting for '" + key + "'");
        }
        dlm.ensureOpen();
        long start = System.nanoTime();
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
                long left = maxWaitNanos - (System.nanoTime() - start);
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
        boolean heldBefore = dlm.holdsLiveLease(key, owner);
        try {
            return attempt();
        } catch (RuntimeException e) {
            if (dlm.isClosed()) {
                // closing the Dlm closed the client under this try: that is the news, not the backend
                throw new IllegalStateException("this Dlm was closed while '" + key + "' was being acquired", e);
            }
            if (Thread.currentThread().isInterrupted()) {
                // The client library gave up on the interrupt; the store may still have applied the
                // acquire. Leave no hold behind, unless it was a hold this process already had.
                if (!heldBefore) {
                    dlm.backend().logFailure("release of '" + key + "' after an interrupt",
                            () -> dlm.store().release(key, owner));
                }
                Thread.interrupted();
                InterruptedException interrupted = new InterruptedException("interrupted while acquiring '" + key + "'");
                interrupted.initCause(e);
                throw interrupted;
            }
            throw e;
        }
    }

    private Attempt attempt() {
        ValidityStart start = ValidityStart.now(dlm.options().clock());
        Acquisition acquisition = dlm.backend().call("acquire of '" + key + "'",
                () -> dlm.store().acquire(key, owner, ttl));
        if (!acquisition.isOurs()) {
            return new Attempt(null, acquisition.hold());
        }
        StoredHold hold = acquisition.hold();
        if (hold.fencingToken() <= 0) {
            throw dlm.backend().translate("acquire of '" + key + "'", new IllegalStateException(
                    "the store granted a hold without a fencing token (" + hold + ")"));
        }
        // the store says how long the hold lasts: the ttl, less (Redlock's validity) or more (etcd's whole seconds)
        StoreLease lease = new StoreLease(dlm, this, hold.fencingToken(), start, hold.remaining());
        leases.add(lease);
        dlm.register(lease);
        if (autoRefresh) {
            lease.startAutoRefresh();
        }
        return new Attempt(lease, hold);
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
