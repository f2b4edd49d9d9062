package io.dlm4j;

import java.time.Instant;

/**
 * One hold of a lock, as returned by {@link Mutex#lock()} and friends.
 *
 * <p>By the owner rule, the leases of one key and owner in a Dlm are one hold: closing any of them
 * (or {@link Mutex#unlock()}) ends them all, and a relock or refresh through any of them moves the
 * {@link #expiresAt()} of all of them to what the backend reports.
 *
 * <p>After {@link #close()}: {@link #isValid()} is false, {@link #refresh()} is false and
 * {@link #onLost(Runnable)} callbacks never run.
 */
public interface Lease extends AutoCloseable {

    /** The key of the lock this lease holds. */
    String key();

    /** The owner that holds it. */
    String owner();

    /**
     * Strictly greater than every token issued before for the same key, by any client, and the
     * same for every lease of one hold (a relock keeps it). Always positive. Pass it to the
     * resource the lock guards, which should reject a token lower than one it has seen.
     */
    long fencingToken();

    /**
     * A conservative estimate on this client's clock ({@link DlmOptions#clock()}): the time taken
     * before the request that acquired or last refreshed the hold was sent, plus the ttl.
     */
    Instant expiresAt();

    /**
     * Not released, not lost, and {@link #expiresAt()} not passed (judged on the monotonic clock,
     * so a wall clock set back cannot make an expired lease look valid).
     */
    boolean isValid();

    /**
     * Extends the hold by the ttl (never shortening it: a hold that lasts longer keeps its expiry);
     * false if this owner no longer holds the lock, or the lease was closed or its Dlm closed.
     * A refresh that finds the hold gone marks the lease lost and runs its {@code onLost}
     * callbacks before it returns.
     *
     * @return true if the backend extended the hold
     * @throws LockBackendException if the backend fails or does not answer within the operation
     *                              timeout; the lease stays as it was (an auto-refreshed lease
     *                              keeps trying until its local expiry)
     */
    boolean refresh();

    /**
     * Runs {@code callback} once if the hold is lost while not released: a refresh found it gone
     * or taken over, the owner acquired the key anew, or an auto-refreshed lease reached its local
     * expiry without a successful refresh (it is marked lost then, not at the end of a late
     * refresh). A loss found in the background runs the callback on the Dlm's callback executor
     * ({@link DlmOptions#callbackExecutor()}, by default a thread of the Dlm's own), never on the
     * thread that refreshes; a loss found by {@link #refresh()} runs it on the thread that called
     * refresh, before it returns false; a lease already lost runs it at once on the calling thread.
     *
     * @throws NullPointerException if {@code callback} is null
     */
    void onLost(Runnable callback);

    /**
     * Releases the hold (as {@link Mutex#unlock()} for this owner): every lease of this key and
     * owner in this Dlm ends. Idempotent; on a closed Dlm it only ends the lease (the close
     * released the hold), and it never throws {@link IllegalStateException}.
     *
     * @throws LockBackendException if the backend fails; the leases have ended all the same, and
     *                              the hold ends at its ttl if the release did not reach the backend
     */
    @Override
    void close();
}
