package io.dlm4j.engine;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Dlm's live leases, grouped by holder (key and owner): by the owner rule all leases of one
 * holder are one hold, so they end together and report one expiry.
 *
 * <p>Acquires, releases and the undo of a failed acquire of one holder run one at a time within
 * this Dlm ({@link #enter}): a failed attempt can then decide, without a race, whether it may undo
 * what it did, and a release cannot interleave with a relock whose lease it would miss. Expired
 * leases leave the map ({@link #remove}, from the lease's expiry timer), so the map holds only
 * what is live.
 */
final class Holders {

    private record HolderId(String key, String owner) {
    }

    private static final class Holder {
        final ReentrantLock serial = new ReentrantLock(); // a j.u.c lock: held across store calls
        final Set<StoreLease> leases = ConcurrentHashMap.newKeySet();
        int sections; // guarded by the map's compute on this id
    }

    /** The serial section of one holder; closing it leaves. */
    interface Section extends AutoCloseable {
        @Override
        void close();
    }

    private final ConcurrentHashMap<HolderId, Holder> byId = new ConcurrentHashMap<>();

    /**
     * Enters the holder's serial section, waiting for the one in progress.
     *
     * @param interruptibly whether an interrupt ends the wait (for {@code lock()})
     */
    Section enter(String key, String owner, boolean interruptibly) throws InterruptedException {
        HolderId id = new HolderId(key, owner);
        Holder holder = byId.compute(id, (k, h) -> {
            Holder entered = h != null ? h : new Holder();
            entered.sections++;
            return entered;
        });
        try {
            if (interruptibly) {
                holder.serial.lockInterruptibly();
            } else {
                holder.serial.lock();
            }
        } catch (InterruptedException e) {
            leave(id, holder);
            throw e;
        }
        return () -> {
            holder.serial.unlock();
            leave(id, holder);
        };
    }

    /** {@link #enter} for callers that cannot be interrupted. */
    Section enter(String key, String owner) {
        try {
            return enter(key, owner, false);
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible wait was interrupted", e);
        }
    }

    void add(StoreLease lease) {
        byId.compute(new HolderId(lease.key(), lease.owner()), (k, h) -> {
            Holder holder = h != null ? h : new Holder();
            holder.leases.add(lease);
            return holder;
        });
    }

    void remove(StoreLease lease) {
        byId.computeIfPresent(new HolderId(lease.key(), lease.owner()), (k, h) -> {
            h.leases.remove(lease);
            return h.leases.isEmpty() && h.sections == 0 ? null : h;
        });
    }

    /** The leases of the holder in this Dlm, in no order. */
    List<StoreLease> leasesOf(String key, String owner) {
        Holder holder = byId.get(new HolderId(key, owner));
        return holder == null ? List.of() : List.copyOf(holder.leases);
    }

    /** Whether a lease of the holder is active and not past its expiry. */
    boolean holdsLiveLease(String key, String owner) {
        return leasesOf(key, owner).stream().anyMatch(StoreLease::isValid);
    }

    /** One lease per holder with leases, for a sweep that ends each hold once. */
    List<StoreLease> oneLeasePerHolder() {
        return byId.values().stream()
                .flatMap(h -> h.leases.stream().limit(1))
                .toList();
    }

    /** How many leases are remembered; for tests of forgetting. */
    int size() {
        return byId.values().stream().mapToInt(h -> h.leases.size()).sum();
    }

    private void leave(HolderId id, Holder holder) {
        byId.computeIfPresent(id, (k, h) -> {
            if (h != holder) {
                return h;
            }
            h.sections--;
            return h.leases.isEmpty() && h.sections == 0 ? null : h;
        });
    }
}
