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
     * already holds it (keeping its token, and the later of its expiry and {@code ttl} from now),
     * and otherwise reports the other holder. For the caller's own hold, {@link StoredHold#remaining()}
     * is how long the hold is sure to last as the store now has it.
     */
    Acquisition acquire(String key, String owner, Duration ttl);

    /**
     * As {@link #acquire(String, String, Duration)}, and marks a hold that this call creates with
     * {@code attempt} (unique to the call), so that {@link #undoAcquire} can later end that hold
     * and no other. The engine calls this form. Stores that keep no mark leave the default; the
     * engine then undoes an interrupted acquire with {@link #release} when no lease of its own
     * holds the lock, which can end a hold that the same owner took in another process meanwhile.
     */
    default Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        return acquire(key, owner, ttl);
    }

    /**
     * Undoes an acquire whose reply the engine never had (it failed, timed out, or the caller was
     * interrupted): ends the hold on {@code key} only if the acquire marked {@code attempt}
     * created it and no acquire or refresh by the owner has touched it since. A hold that existed
     * before that acquire is never ended.
     */
    default Undo undoAcquire(String key, String owner, String attempt) {
        return Undo.UNSUPPORTED;
    }

    /** What {@link #undoAcquire} did. */
    enum Undo {
        /** The attempt had created the hold; it is ended. */
        RELEASED,
        /** The attempt created no hold that is still its own: nothing was changed. */
        NOTHING_TO_UNDO,
        /** This store keeps no marks of attempts. */
        UNSUPPORTED
    }

    /**
     * Extends the hold to {@code ttl} from now, only if {@code owner} holds it. A hold that already
     * lasts longer keeps its expiry: a refresh never shortens a hold (another lease of the owner
     * may count on it).
     *
     * @return how long the hold is now sure to last (at least the ttl, or less where the store can
     *         only promise less, as Redlock's validity time); empty if {@code owner} does not hold it
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

    /**
     * As {@link #refreshAll}, with a third answer per hold: {@linkplain RefreshResult#undecided
     * undecided}, so that a store that can decide some holds of a batch and not others (Redlock
     * during a minority outage) never fails the whole batch. The engine's auto-refresh calls this
     * form. The default answers what {@link #refreshAll} answers; an exception from it still fails
     * the whole batch.
     *
     * @return one result per hold, in the order given
     */
    default List<RefreshResult> refreshEach(List<HoldToRefresh> holds) {
        List<Optional<Duration>> results = refreshAll(holds);
        List<RefreshResult> each = new ArrayList<>(results.size());
        for (Optional<Duration> result : results) {
            each.add(result.map(RefreshResult::extended).orElseGet(RefreshResult::notHeld));
        }
        return each;
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
