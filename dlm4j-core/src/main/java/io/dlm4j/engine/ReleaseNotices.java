package io.dlm4j.engine;

import io.dlm4j.spi.Subscription;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Dlm's waiters grouped by key, with one store subscription per key while anyone waits on it.
 * A release notice wakes one local waiter, not all: only one can win the lock, and waking every
 * waiter of a busy key sends a failed try per waiter per release (a thundering herd). The woken
 * waiter goes to the back of the line, so that the waiters of one Dlm take turns.
 *
 * <p>A waiter that leaves with a notice it did not use passes it on. The others still wake at the
 * end of their pause (the waiting interval, or the holder's expiry), which bounds a notice lost
 * any other way.
 */
final class ReleaseNotices {

    private static final Logger LOG = LoggerFactory.getLogger(ReleaseNotices.class);

    private final StoreBackedDlm dlm;
    private final Map<String, KeyWaiters> byKey = new HashMap<>(); // guarded by itself

    ReleaseNotices(StoreBackedDlm dlm) {
        this.dlm = dlm;
    }

    /**
     * Lines {@code signal} up for notices on {@code key}; once this returns, a release of the key
     * wakes someone in this Dlm. Closing the result leaves the line.
     */
    Subscription join(String key, WakeSignal signal) {
        KeyWaiters waiters;
        synchronized (byKey) {
            waiters = byKey.computeIfAbsent(key, KeyWaiters::new);
            waiters.add(signal);
        }
        try {
            waiters.subscribeOnce();
        } catch (RuntimeException e) {
            leave(waiters, signal);
            throw e;
        }
        return () -> leave(waiters, signal);
    }

    private void leave(KeyWaiters waiters, WakeSignal signal) {
        boolean last;
        synchronized (byKey) {
            last = waiters.remove(signal);
            if (last) {
                byKey.remove(waiters.key, waiters);
            }
        }
        if (last) {
            try {
                waiters.unsubscribe();
            } catch (RuntimeException e) {
                if (!dlm.isClosed()) { // a closing Dlm's store ends its subscriptions itself
                    LOG.warn("{}: leaving the release notices of '{}' failed", dlm.store().describe(), waiters.key, e);
                }
            }
        } else if (signal.hasUnusedWake()) {
            waiters.wakeOne();
        }
    }

    private final class KeyWaiters {
        private final String key;
        private final Deque<WakeSignal> line = new ArrayDeque<>(); // guarded by byKey
        // a j.u.c lock, not a monitor: subscribing waits for the server, and a virtual thread
        // waiting under a monitor pins its carrier
        private final ReentrantLock subscribing = new ReentrantLock();
        private Subscription subscription; // guarded by subscribing

        KeyWaiters(String key) {
            this.key = key;
        }

        void add(WakeSignal signal) {
            line.addLast(signal);
        }

        /** True if that was the last waiter. */
        boolean remove(WakeSignal signal) {
            line.remove(signal);
            return line.isEmpty();
        }

        void subscribeOnce() {
            subscribing.lock();
            try {
                if (subscription == null) {
                    subscription = dlm.gate().call(() -> dlm.store().onRelease(key, this::wakeOne));
                }
            } finally {
                subscribing.unlock();
            }
        }

        void unsubscribe() {
            subscribing.lock();
            try {
                if (subscription != null) {
                    Subscription ending = subscription;
                    subscription = null;
                    ending.close();
                }
            } finally {
                subscribing.unlock();
            }
        }

        void wakeOne() {
            WakeSignal next;
            synchronized (byKey) {
                next = line.pollFirst();
                if (next != null) {
                    line.addLast(next);
                }
            }
            if (next != null) {
                next.wake();
            }
        }
    }
}
