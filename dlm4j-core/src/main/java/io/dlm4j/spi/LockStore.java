package io.dlm4j.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The backend SPI: a page of atomic store operations. The engine does everything else (argument
 * checks, waiting, leases, refreshing, fencing checks, callbacks), once for every backend.
 *
 * <p>Rules for implementations:
 * <ul>
 *   <li>Every decision about expiry is made by the backend's clock, never by this client's.
 *       Times cross this interface as durations left ({@link StoredHold#remaining()}).</li>
 *   <li>A new hold gets a fencing token strictly greater than every token issued before for the
 *       key, by any client, also after expiry, release and cleanup of old records. A refresh, and
 *       an acquire by the owner that already holds the lock, keep the token.</li>
 *   <li>Methods may throw any runtime exception of the client library; the engine wraps it in a
 *       {@link io.dlm4j.LockBackendException} that names {@link #describe()}.</li>
 *   <li>Thread-safe; each operation finishes or fails within the Dlm's operation timeout.</li>
 * </ul>
 */
public interface LockStore extends AutoCloseable {

    /**
     * Takes the lock for {@code owner} if it is free or expired, refreshes it if {@code owner}
     * already holds it, and otherwise reports the other holder.
     */
    Acquisition acquire(String key, String owner, Duration ttl);

    /**
     * Extends the hold to {@code ttl} from now, only if {@code owner} holds it.
     *
     * @return how long the hold is now sure to last (the ttl, or less where the store can only
     *         promise less, as Redlock's validity time); empty if {@code owner} does not hold it
     */
    Optional<Duration> refresh(String key, String owner, Duration ttl);

    /**
     * Refreshes many holds in as few round trips as the store allows, each as {@link #refresh}
     * would. The engine's auto-refresh sends at most {@link #refreshBatchSize()} holds per call.
     *
     * @return one result per hold, in the order given
     */
    default List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        List<Optional<Duration>> results = new ArrayList<>(holds.size());
        for (HoldToRefresh hold : holds) {
            results.add(refresh(hold.key(), hold.owner(), hold.ttl()));
        }
        return results;
    }

    /** The most holds one {@link #refreshAll} call should carry; 1 where it has no batch form. */
    default int refreshBatchSize() {
        return 1;
    }

    /** Ends the hold, only if {@code owner} holds it; true if it did. */
    boolean release(String key, String owner);

    /** The live hold on {@code key}, if any. */
    Optional<StoredHold> read(String key);

    /**
     * Calls {@code wake} (on any thread, quickly) when the lock on {@code key} may have become
     * free. Backends that cannot push return {@link Subscription#NONE}; waiters then poll.
     */
    default Subscription onRelease(String key, Runnable wake) {
        return Subscription.NONE;
    }

    /** One round trip to the backend; returns how long it took. */
    Duration ping();

    /** The backend's name and address, for messages: "MongoDB at 10.0.0.7:27017, db.locks". */
    String describe();

    /**
     * Housekeeping the engine runs on the Dlm's scheduler every {@link #housekeepingInterval()},
     * such as re-measuring the offset to the backend's clock.
     */
    default void housekeeping() {
    }

    /** How often {@link #housekeeping()} runs; {@link Duration#ZERO} for never. */
    default Duration housekeepingInterval() {
        return Duration.ZERO;
    }

    /** Closes what the store created itself; never a client the user passed in. */
    @Override
    void close();
}
