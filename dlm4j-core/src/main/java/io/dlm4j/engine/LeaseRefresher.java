package io.dlm4j.engine;

import io.dlm4j.spi.HoldToRefresh;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Refreshes a Dlm's auto-refreshed leases in batches, so that thousands of held leases cost a
 * store command per {@link io.dlm4j.spi.LockStore#refreshBatchSize()} leases per period, not one
 * each.
 *
 * <p>A lease is due a third of its ttl after its last refresh. When a round runs it also takes
 * every lease due within half its period from now: refreshing early is safe, and it pulls leases
 * taken at scattered times into one cohort per period that fills whole batches.
 */
final class LeaseRefresher {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseRefresher.class);

    private final StoreBackedDlm dlm;
    private final ReentrantLock lock = new ReentrantLock();
    private final PriorityQueue<Due> queue = new PriorityQueue<>(
            Comparator.comparingLong(Due::atNanos).thenComparingLong(Due::sequence));
    private final AtomicLong sequence = new AtomicLong();
    private ScheduledFuture<?> nextRound;
    private long nextRoundAtNanos;

    LeaseRefresher(StoreBackedDlm dlm) {
        this.dlm = dlm;
    }

    /** Schedules the lease's next refresh, a period from now. */
    void schedule(StoreLease lease) {
        schedule(lease, System.nanoTime() + lease.refreshPeriod().toNanos());
    }

    private void schedule(StoreLease lease, long atNanos) {
        lock.lock();
        try {
            queue.add(new Due(lease, atNanos, sequence.incrementAndGet()));
            armIfEarlier(atNanos);
        } finally {
            lock.unlock();
        }
    }

    /** With the lock held: makes sure a round runs at {@code atNanos} or before. */
    private void armIfEarlier(long atNanos) {
        if (nextRound != null && atNanos - nextRoundAtNanos >= 0) {
            return;
        }
        if (nextRound != null) {
            nextRound.cancel(false);
        }
        nextRoundAtNanos = atNanos;
        long delay = Math.max(0, atNanos - System.nanoTime());
        try {
            nextRound = dlm.scheduler().schedule(this::runRound, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            nextRound = null; // the Dlm is closing and releases its leases: none is left to refresh
        }
    }

    private void runRound() {
        lock.lock();
        try {
            nextRound = null; // this round is running: leases scheduled meanwhile arm the next one
        } finally {
            lock.unlock();
        }
        try {
            List<StoreLease> due = takeDue();
            int batchSize = Math.max(1, dlm.store().refreshBatchSize());
            for (int from = 0; from < due.size(); from += batchSize) {
                refreshBatch(due.subList(from, Math.min(due.size(), from + batchSize)));
            }
        } finally {
            lock.lock();
            try {
                Due head = queue.peek();
                if (head != null) {
                    armIfEarlier(head.atNanos());
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Released and lost leases are dropped here, when they come up, rather than searched for on release. */
    private List<StoreLease> takeDue() {
        long now = System.nanoTime();
        List<StoreLease> due = new ArrayList<>();
        lock.lock();
        try {
            while (!queue.isEmpty()) {
                Due head = queue.peek();
                if (head.atNanos() - now > head.lease().refreshPeriod().toNanos() / 2) {
                    break;
                }
                queue.poll();
                if (head.lease().isAutoRefreshed()) {
                    due.add(head.lease());
                }
            }
        } finally {
            lock.unlock();
        }
        return due;
    }

    private void refreshBatch(List<StoreLease> batch) {
        List<StoreLease> locked = new ArrayList<>(batch.size());
        List<Runnable> callbacks = new ArrayList<>();
        try {
            for (StoreLease lease : batch) {
                if (lease.lockIfActive()) {
                    locked.add(lease);
                }
            }
            if (locked.isEmpty()) {
                return;
            }
            List<HoldToRefresh> holds = locked.stream().map(StoreLease::holdToRefresh).toList();
            ValidityStart start = ValidityStart.now(dlm.options().clock());
            List<Optional<Duration>> results;
            try {
                results = dlm.backend().call(describe(holds), () -> dlm.store().refreshAll(holds));
                if (results.size() != holds.size()) {
                    throw new IllegalStateException("the store answered " + results.size()
                            + " results for " + holds.size() + " refreshes");
                }
            } catch (RuntimeException e) {
                LOG.warn("{} failed; retrying in a period", describe(holds), e);
                for (StoreLease lease : locked) {
                    callbacks.addAll(lease.applyFailedRefresh(e));
                }
                return;
            }
            for (int i = 0; i < locked.size(); i++) {
                callbacks.addAll(locked.get(i).applyRefresh(start, results.get(i)));
            }
        } finally {
            for (StoreLease lease : locked) {
                lease.unlock();
                if (lease.isAutoRefreshed()) {
                    schedule(lease);
                }
            }
            callbacks.forEach(StoreLease::runCallback);
        }
    }

    private static String describe(List<HoldToRefresh> holds) {
        return holds.size() == 1
                ? "refresh of '" + holds.get(0).key() + "'"
                : "refresh of " + holds.size() + " leases";
    }

    private record Due(StoreLease lease, long atNanos, long sequence) {
    }
}
