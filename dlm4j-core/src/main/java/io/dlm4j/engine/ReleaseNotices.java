package io.dlm4j.engine;

import io.dlm4j.spi.Subscription;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

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
            waiters.unsubscribe();
        } else if (signal.hasUnusedWake()) {
            waiters.wakeOne();
        }
    }

    private final class KeyWaiters {
        private final String key;
        private final Deque<WakeSignal> line = new ArrayDeque<>(); // guarded by byKey
        private Subscription subscription; // guarded by this

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

        synchronized void subscribeOnce() {
            if (subscription == null) {
                subscription = dlm.backend().call("subscription to '" + key + "'",
                        () -> dlm.store().onRelease(key, this::wakeOne));
            }
        }

        synchronized void unsubscribe() {
            if (subscription != null) {
                subscription.close();
                subscription = null;
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
