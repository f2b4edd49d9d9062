package io.dlm4j.engine;

import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.RefreshResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
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
 *
 * <p>Rounds run on the Dlm's refresh thread, not on its scheduler thread: a store call that hangs
 * for the operation timeout must not hold up the expiry timers that mark leases lost on time.
 * No lease lock is held across the store call: a release or a close of a lease in the batch
 * goes ahead at once, and the batch's answer is applied only to leases still active. A lease whose
 * refreshes keep failing is marked lost by its own expiry timer, not here.
 */
final class LeaseRefresher {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseRefresher.class);

    private final StoreBackedDlm dlm;
    private final ReentrantLock lock = new ReentrantLock();
    private final PriorityQueue<Due> queue = new PriorityQueue<>(
            Comparator.comparingLong(Due::atNanos).thenComparingLong(Due::sequence));
    private final AtomicLong sequence = new AtomicLong();
    private Scheduler.Scheduled nextRound; // guarded by lock; null when none is armed
    private long nextRoundAtNanos;

    LeaseRefresher(StoreBackedDlm dlm) {
        this.dlm = dlm;
    }

    /** Schedules the lease's next refresh, a period from now. */
    void schedule(StoreLease lease) {
        schedule(lease, dlm.ticker().read() + lease.refreshPeriod().toNanos());
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
            nextRound.cancel();
        }
        nextRoundAtNanos = atNanos;
        long delay = Math.max(0, atNanos - dlm.ticker().read());
        // after the Dlm's close this arms nothing: the close released every lease
        nextRound = dlm.scheduler().schedule(this::runRound, delay);
    }

    private void runRound() {
        lock.lock();
        try {
            nextRound = null; // this round is running: leases scheduled meanwhile arm the next one
        } finally {
            lock.unlock();
        }
        try {
            dlm.refreshWorker().execute(this::refreshDue);
        } catch (RejectedExecutionException e) {
            // the Dlm is closing and releases its leases: none is left to refresh
        }
    }

    private void refreshDue() {
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
        long now = dlm.ticker().read();
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
        List<StoreLease> active = batch.stream().filter(StoreLease::isActive).toList();
        if (active.isEmpty()) {
            return;
        }
        List<HoldToRefresh> holds = active.stream().map(StoreLease::holdToRefresh).toList();
        ValidityStart start = dlm.validityStart();
        try {
            List<RefreshResult> results = dlm.gate().call(() -> dlm.store().refreshEach(holds));
            if (results.size() != holds.size()) {
                throw new IllegalStateException("the store answered " + results.size()
                        + " results for " + holds.size() + " refreshes");
            }
            List<String> undecided = new ArrayList<>();
            RuntimeException why = null;
            for (int i = 0; i < active.size(); i++) {
                RefreshResult result = results.get(i);
                switch (result.outcome()) {
                    case EXTENDED -> dlm.refreshed(active.get(i), start, Optional.of(result.remaining()));
                    case NOT_HELD -> dlm.refreshed(active.get(i), start, Optional.empty());
                    case UNDECIDED -> {
                        // neither extended nor lost: the next period tries again, the expiry timer bounds it
                        undecided.add(holds.get(i).key());
                        why = why == null ? result.failure() : why;
                    }
                }
            }
            if (why != null) {
                LOG.warn("{} undecided of {} ({}); retrying in a period", undecided.size() == 1
                        ? "refresh of '" + undecided.get(0) + "'" : undecided.size() + " refreshes",
                        TranslatingStore.refreshOf(holds), why.getMessage(), why);
            }
        } catch (RuntimeException e) {
            if (dlm.isClosed()) {
                return; // the close releases these leases
            }
            LOG.warn("{} failed; retrying in a period", TranslatingStore.refreshOf(holds), e);
        } finally {
            for (StoreLease lease : active) {
                if (lease.isAutoRefreshed()) {
                    schedule(lease);
                }
            }
        }
    }

    private record Due(StoreLease lease, long atNanos, long sequence) {
    }
}
