package io.dlm4j.etcd;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lease each acquire attempt of this store granted, and what is known of its create
 * transaction: what {@link EtcdLockStore#undoAcquire} goes by. Only the attempt puts a key on its
 * lease, so the lease is the attempt's mark in etcd; this table only remembers which lease that was.
 *
 * <p>An attempt is forgotten when its acquire returns without creating a hold (nothing to undo),
 * when it is undone, or once twice its lease's ttl has passed (etcd has ended the lease by then, also
 * after the extension a new leader gives every lease, so an undo would find nothing of it to end).
 */
final class AttemptLeases {

    /** What the attempt's create transaction did, as far as this client knows. */
    enum Creation {
        /** Sent, no answer yet: it may have created the hold, or may still do so. */
        UNKNOWN,
        /** It created the hold on the attempt's lease. */
        CREATED,
        /** It found the key held: it created nothing and never will. */
        NOT_CREATED
    }

    record Attempt(long leaseId, Creation creation, long forgetAtNanos) {
    }

    private static final int FIRST_PURGE_SIZE = 256;

    private final Map<String, Attempt> byId = new ConcurrentHashMap<>();
    private volatile int purgeSize = FIRST_PURGE_SIZE;

    /** The attempt's create transaction on {@code leaseId} is about to be sent. */
    void sending(String attempt, long leaseId, Duration leaseTtl) {
        if (attempt == null) {
            return;
        }
        long now = System.nanoTime();
        byId.put(attempt, new Attempt(leaseId, Creation.UNKNOWN, now + leaseTtl.multipliedBy(2).toNanos()));
        if (byId.size() >= purgeSize) {
            byId.values().removeIf(a -> a.forgetAtNanos() - now < 0);
            purgeSize = Math.max(FIRST_PURGE_SIZE, 2 * byId.size());
        }
    }

    void answered(String attempt, Creation creation) {
        if (attempt != null) {
            byId.computeIfPresent(attempt, (id, a) -> new Attempt(a.leaseId(), creation, a.forgetAtNanos()));
        }
    }

    void forget(String attempt) {
        if (attempt != null) {
            byId.remove(attempt);
        }
    }

    /** Removes and returns what is known of the attempt, if its lease may still hold a key. */
    Optional<Attempt> take(String attempt) {
        Attempt known = byId.remove(attempt);
        if (known == null || known.forgetAtNanos() - System.nanoTime() < 0) {
            return Optional.empty();
        }
        return Optional.of(known);
    }
}
