package io.dlm4j.engine;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.spi.LockStore;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one implementation of {@link Dlm} for every backend: it turns a {@link LockStore} (a page of
 * atomic store operations) into mutexes and leases with waiting, refreshing and callbacks.
 *
 * <p>Backends build it in their factories: {@code new StoreBackedDlm(new MongoLockStore(...), options)}.
 * Closing it releases the leases still held, stops its scheduler and closes the store.
 */
public final class StoreBackedDlm implements Dlm {

    private static final AtomicInteger SCHEDULER_NUMBER = new AtomicInteger();

    private final LockStore store;
    private final DlmOptions options;
    private final BackendCalls backend;
    private final ScheduledExecutorService scheduler;
    private final LeaseRefresher refresher;
    private final ReleaseNotices releaseNotices = new ReleaseNotices(this);
    private final Map<HolderId, Set<StoreLease>> liveLeases = new ConcurrentHashMap<>();
    private final Set<WakeSignal> waiters = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    public StoreBackedDlm(LockStore store, DlmOptions options) {
        this.store = Objects.requireNonNull(store, "store must not be null");
        this.options = Objects.requireNonNull(options, "options must not be null");
        this.backend = new BackendCalls(store);
        this.scheduler = newScheduler();
        this.refresher = new LeaseRefresher(this);
        Duration housekeeping = store.housekeepingInterval();
        if (!housekeeping.isZero()) {
            long nanos = housekeeping.toNanos();
            scheduler.scheduleWithFixedDelay(
                    () -> backend.logFailure("housekeeping", store::housekeeping),
                    nanos, nanos, TimeUnit.NANOSECONDS);
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
        ensureOpen();
        return backend.call("ping", store::ping);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        waiters.forEach(WakeSignal::wake); // their next step finds the Dlm closed
        RuntimeException failure = null;
        try {
            for (StoreLease lease : liveLeasesSnapshot()) {
                try {
                    lease.close();
                } catch (RuntimeException e) {
                    failure = collect(failure, e);
                }
            }
        } finally {
            scheduler.shutdownNow();
            try {
                store.close();
            } catch (RuntimeException e) {
                failure = collect(failure, backend.translate("close", e));
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

    LockStore store() {
        return store;
    }

    DlmOptions options() {
        return options;
    }

    BackendCalls backend() {
        return backend;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    LeaseRefresher refresher() {
        return refresher;
    }

    ReleaseNotices releaseNotices() {
        return releaseNotices;
    }

    boolean isClosed() {
        return closed.get();
    }

    void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this Dlm is closed (" + store.describe() + ")");
        }
    }

    /** A signal for one waiter, woken also when this Dlm closes. */
    WakeSignal newWakeSignal() {
        return new WakeSignal(waiters);
    }

    void register(StoreLease lease) {
        liveLeases.compute(new HolderId(lease.key(), lease.owner()), (id, leases) -> {
            Set<StoreLease> set = leases != null ? leases : ConcurrentHashMap.newKeySet();
            set.add(lease);
            return set;
        });
        if (closed.get()) {
            // close() may have taken its copy before this lease was added: release it here
            lease.close();
        }
    }

    void unregister(StoreLease lease) {
        liveLeases.computeIfPresent(new HolderId(lease.key(), lease.owner()), (id, leases) -> {
            leases.remove(lease);
            return leases.isEmpty() ? null : leases;
        });
    }

    boolean holdsLiveLease(String key, String owner) {
        return liveLeases.containsKey(new HolderId(key, owner));
    }

    private List<StoreLease> liveLeasesSnapshot() {
        return liveLeases.values().stream().flatMap(Set::stream).toList();
    }

    private record HolderId(String key, String owner) {
    }

    private static RuntimeException collect(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private static ScheduledExecutorService newScheduler() {
        String name = "dlm4j-scheduler-" + SCHEDULER_NUMBER.incrementAndGet();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return executor;
    }
}
