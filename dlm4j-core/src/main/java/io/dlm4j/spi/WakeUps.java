package io.dlm4j.spi;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The waiters a store wakes when a lock may have become free, per key: what a store's
 * {@link LockStore#onRelease} registers and its release notification runs.
 *
 * <p>A registration and the removal of a key's last waiter never miss each other: both change the
 * key's set inside the map's own atomic update, so a new waiter can never land in a set that was
 * just dropped from the map (which would leave it deaf, polling from then on).
 */
public final class WakeUps {

    private final Map<String, Set<Runnable>> waiters = new ConcurrentHashMap<>();

    /** Registers {@code wake} for {@code key}; closing the subscription removes it. */
    public Subscription add(String key, Runnable wake) {
        waiters.compute(key, (k, set) -> {
            Set<Runnable> present = set != null ? set : new CopyOnWriteArraySet<>();
            present.add(wake);
            return present;
        });
        return () -> waiters.computeIfPresent(key, (k, set) -> {
            set.remove(wake);
            return set.isEmpty() ? null : set;
        });
    }

    /** Runs every waiter registered for {@code key} now, on the calling thread. */
    public void wake(String key) {
        Set<Runnable> set = waiters.get(key);
        if (set != null) {
            List.copyOf(set).forEach(Runnable::run);
        }
    }

    /**
     * Runs every registered waiter now, on the calling thread: for a store that may have missed
     * releases (its notification channel was down) and cannot tell which.
     */
    public void wakeAll() {
        for (Set<Runnable> set : List.copyOf(waiters.values())) {
            List.copyOf(set).forEach(Runnable::run);
        }
    }

    /** Whether any waiter is registered for {@code key}. */
    public boolean isWaitedOn(String key) {
        return waiters.containsKey(key);
    }

    /** Forgets every waiter, as a store does when it closes. */
    public void clear() {
        waiters.clear();
    }
}
