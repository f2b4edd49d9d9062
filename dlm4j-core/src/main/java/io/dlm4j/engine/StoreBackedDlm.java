package io.dlm4j.engine;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.StoredHold;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The one implementation of {@link Dlm} for every backend: it turns a {@link LockStore} (a page of
 * atomic store operations) into mutexes and leases with waiting, refreshing and callbacks.
 *
 * <p>Backends build it in their factories: {@code new StoreBackedDlm(new MongoLockStore(...), options)}.
 *
 * <p>Threads: expiry timers, the timing of refresh rounds and housekeeping run on one scheduler
 * thread per Dlm; the refresh rounds' store calls on a refresh thread of its own, so that a hung
 * backend cannot delay the timer that marks a lease lost at its expiry; {@code onLost} callbacks
 * run on {@link DlmOptions#callbackExecutor()} (by default a thread of the Dlm's own), never on
 * either, so a slow callback delays no refresh.
 *
 * <p>Closing: {@link #close()} refuses new calls, wakes the waiters, lets the calls in progress end
 * (each within the operation timeout; they end with {@link IllegalStateException}), then releases
 * each hold still held, stops its threads and closes the store.
 */
public final class StoreBackedDlm implements Dlm {

    private static final Logger LOG = LoggerFactory.getLogger(StoreBackedDlm.class);
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

    private final TranslatingStore store;
    private final DlmOptions options;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final Executor refreshWorker;
    private final ExecutorService ownRefreshThread; // null when a test gave the worker
    private final Executor callbacks;
    private final ExecutorService ownCallbackThread; // null when the user gave an executor
    private final CallGate gate;
    private final LeaseRefresher refresher;
    private final ReleaseNotices releaseNotices = new ReleaseNotices(this);
    private final Holders holders = new Holders();
    private final Set<WakeSignal> waiters = ConcurrentHashMap.newKeySet();

    public StoreBackedDlm(LockStore store, DlmOptions options) {
        this(store, options, Ticker.SYSTEM, new ExecutorScheduler(), null);
    }

    /**
     * For tests: a Dlm on a ticker and a scheduler that the test drives, refreshing on
     * {@code refreshWorker} (null: a thread of its own).
     */
    StoreBackedDlm(LockStore store, DlmOptions options, Ticker ticker, Scheduler scheduler, Executor refreshWorker) {
        Objects.requireNonNull(store, "store must not be null");
        this.gate = new CallGate(store::describe);
        this.store = new TranslatingStore(store, gate::isClosed);
        this.options = Objects.requireNonNull(options, "options must not be null");
        this.ticker = ticker;
        this.scheduler = scheduler;
        this.ownRefreshThread = refreshWorker != null ? null : newDaemonThread("dlm4j-refresh-");
        this.refreshWorker = refreshWorker != null ? refreshWorker : ownRefreshThread;
        this.refresher = new LeaseRefresher(this);
        Optional<Executor> given = options.callbackExecutor();
        this.ownCallbackThread = given.isPresent() ? null : newDaemonThread("dlm4j-callbacks-");
        this.callbacks = given.orElse(ownCallbackThread);
        Duration housekeeping = this.store.housekeepingInterval();
        if (!housekeeping.isZero()) {
            // timed on the scheduler, run on the refresh thread: a hung store must not delay expiry timers
            Runnable work = this::housekeeping;
            scheduler.scheduleRepeating(() -> {
                try {
                    this.refreshWorker.execute(work);
                } catch (RejectedExecutionException closing) {
                    // the Dlm is closing
                }
            }, housekeeping.toNanos());
        }
    }

    @Override
    public Mutex newMutex(String key) {
        return newMutex(MutexOptions.builder(key).build());
    }

    @Override
    public Mutex newMutex(String key, Duration ttl) {
        Objects.requireNonNull(ttl, "ttl must not be null");
        return newMutex(MutexOptions.builder(key).ttl(ttl).build());
    }

    @Override
    public Mutex newMutex(MutexOptions mutexOptions) {
        Objects.requireNonNull(mutexOptions, "options must not be null");
        ensureOpen();
        return new StoreMutex(this,
                mutexOptions.key(),
                mutexOptions.owner() != null ? mutexOptions.owner() : options.defaultOwner(),
                mutexOptions.ttl() != null ? mutexOptions.ttl() : options.defaultTtl(),
                mutexOptions.autoRefresh() != null ? mutexOptions.autoRefresh() : options.autoRefresh());
    }

    @Override
    public Duration ping() {
        return gate.call(store::ping);
    }

    @Override
    public void close() {
        if (!gate.close()) {
            return;
        }
        waiters.forEach(WakeSignal::wake); // their next step finds the Dlm closed
        // each call in progress makes at most two store calls (an acquire and its undo)
        if (!gate.awaitIdle(2 * options.operationTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1))) {
            LOG.warn("{}: closing while calls are still in progress", store.describe());
        }
        RuntimeException failure = null;
        try {
            for (StoreLease lease : holders.oneLeasePerHolder()) {
                try {
                    releaseWhileClosing(lease);
                } catch (RuntimeException e) {
                    failure = collect(failure, e);
                }
            }
        } finally {
            scheduler.shutdown();
            if (ownRefreshThread != null) {
                ownRefreshThread.shutdownNow();
            }
            if (ownCallbackThread != null) {
                ownCallbackThread.shutdown(); // callbacks of losses found before the close still run
            }
            try {
                store.close();
            } catch (RuntimeException e) {
                failure = collect(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "StoreBackedDlm{" + store.describe() + '}';
    }

    /** The backend's store, its failures translated; calls into it are counted in with {@link #gate()}. */
    TranslatingStore store() {
        return store;
    }

    DlmOptions options() {
        return options;
    }

    CallGate gate() {
        return gate;
    }

    Ticker ticker() {
        return ticker;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    Executor refreshWorker() {
        return refreshWorker;
    }

    Holders holders() {
        return holders;
    }

    LeaseRefresher refresher() {
        return refresher;
    }

    ReleaseNotices releaseNotices() {
        return releaseNotices;
    }

    boolean isClosed() {
        return gate.isClosed();
    }

    void ensureOpen() {
        if (gate.isClosed()) {
            throw gate.closedException();
        }
    }

    ValidityStart validityStart() {
        return new ValidityStart(options.clock().instant(), ticker.read());
    }

    /** A signal for one waiter, woken also when this Dlm closes. */
    WakeSignal newWakeSignal() {
        return new WakeSignal(waiters);
    }

    /**
     * A new lease on {@code hold}, which the store just granted or extended. Every other lease of
     * the holder reports the store's expiry from now on; one with another token belonged to a
     * hold that has ended, and is lost: its callbacks go to {@code lostCallbacks}, for the caller to
     * hand on once it has left the holder's section (a callback may unlock the key itself).
     */
    StoreLease admit(StoreMutex mutex, StoredHold hold, ValidityStart start, List<Runnable> lostCallbacks) {
        for (StoreLease sibling : holders.leasesOf(mutex.key(), mutex.owner())) {
            if (sibling.fencingToken() == hold.fencingToken()) {
                sibling.extend(start, hold.remaining());
            } else {
                lostCallbacks.addAll(sibling.takeLost("the owner holds the lock again with token " + hold.fencingToken()));
            }
        }
        StoreLease lease = new StoreLease(this, mutex, hold.fencingToken(), start, hold.remaining());
        lease.start();
        return lease;
    }

    /** A refresh of {@code lease} answered: the hold lasts that long, for every lease of it; or it is gone. */
    void refreshed(StoreLease lease, ValidityStart start, Optional<Duration> validity, Consumer<Runnable> runCallback) {
        List<Runnable> callbacks = new ArrayList<>();
        for (StoreLease sibling : holders.leasesOf(lease.key(), lease.owner())) {
            if (sibling != lease && sibling.fencingToken() == lease.fencingToken()) {
                apply(sibling, start, validity, callbacks);
            }
        }
        apply(lease, start, validity, callbacks);
        callbacks.forEach(runCallback);
    }

    /** {@link #refreshed(StoreLease, ValidityStart, Optional, Consumer)} with callbacks on the callback executor. */
    void refreshed(StoreLease lease, ValidityStart start, Optional<Duration> validity) {
        refreshed(lease, start, validity, this::runCallback);
    }

    private static void apply(StoreLease lease, ValidityStart start, Optional<Duration> validity, List<Runnable> callbacks) {
        if (validity.isPresent()) {
            lease.extend(start, validity.get());
        } else {
            callbacks.addAll(lease.takeLost("a refresh found the lock no longer held by its owner"));
        }
    }

    /** {@link io.dlm4j.Mutex#unlock()}: ends every lease of the holder in this Dlm, then the hold. */
    void release(String key, String owner) {
        gate.enter();
        try (Holders.Section serial = holders.enter(key, owner)) {
            if (gate.isClosed()) {
                // queued behind a call that the close waited for: the close's sweep releases the hold
                endLeases(key, owner);
                throw gate.closedException();
            }
            endLeases(key, owner);
            store.release(key, owner);
        } finally {
            gate.exit();
        }
    }

    /** {@link io.dlm4j.Lease#close()}: as {@link #release(String, String)}; on a closed Dlm, only the lease ends. */
    void release(StoreLease lease) {
        if (gate.isClosed()) {
            lease.markReleased();
            return;
        }
        try {
            release(lease.key(), lease.owner());
        } catch (IllegalStateException e) {
            if (!gate.isClosed()) {
                throw e;
            }
            lease.markReleased(); // closed meanwhile: the close releases the hold
            return;
        }
        lease.markReleased(); // an expired lease is no longer among the holder's leases
    }

    /** Ends the hold of {@code lease}'s holder from within the close. */
    private void releaseWhileClosing(StoreLease lease) {
        endLeases(lease.key(), lease.owner());
        lease.markReleased();
        store.whileClosing().release(lease.key(), lease.owner());
    }

    /** Background work: a failure has no caller to go to, and a closed Dlm skips it. */
    private void housekeeping() {
        if (!gate.tryEnter()) {
            return;
        }
        try {
            store.housekeeping();
        } catch (RuntimeException e) {
            if (!gate.isClosed()) {
                LOG.warn("{}: housekeeping failed", store.describe(), e);
            }
        } finally {
            gate.exit();
        }
    }

    private void endLeases(String key, String owner) {
        for (StoreLease sibling : holders.leasesOf(key, owner)) {
            sibling.markReleased();
        }
    }

    /** Runs an onLost callback on the callback executor; on the calling thread if it refuses. */
    void runCallback(Runnable callback) {
        try {
            callbacks.execute(() -> StoreLease.runCallback(callback));
        } catch (RejectedExecutionException e) {
            LOG.warn("the callback executor refused an onLost callback; running it on {}",
                    Thread.currentThread().getName(), e);
            StoreLease.runCallback(callback);
        }
    }

    private static RuntimeException collect(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** One thread, made when first needed and gone after 10 s idle. */
    private static ExecutorService newDaemonThread(String prefix) {
        String name = prefix + THREAD_NUMBER.incrementAndGet();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, name);
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true); // no thread while idle
        return executor;
    }
}
