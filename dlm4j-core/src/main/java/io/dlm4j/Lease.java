package io.dlm4j;

import java.time.Instant;

/**
 * One hold of a lock, as returned by {@link Mutex#lock()} and friends.
 *
 * <p>After {@link #close()}: {@link #isValid()} is false, {@link #refresh()} is false and
 * {@link #onLost(Runnable)} callbacks never run.
 */
public interface Lease extends AutoCloseable {

    String key();

    String owner();

    /**
     * Strictly greater than every token issued before for the same key, by any client. Pass it to
     * the resource the lock guards, which should reject a token lower than one it has seen.
     */
    long fencingToken();

    /**
     * A conservative estimate on this client's clock ({@link DlmOptions#clock()}): the time taken
     * before the request that acquired or last refreshed the hold was sent, plus the ttl.
     */
    Instant expiresAt();

    /** Not released, not lost, and {@link #expiresAt()} not passed. */
    boolean isValid();

    /** Extends the hold by the ttl; false if this owner no longer holds the lock. */
    boolean refresh();

    /**
     * Runs {@code callback} once if the hold is lost while not released: a refresh found it gone
     * or taken over, or it expired while auto-refreshing. Runs at once if the hold is already lost.
     */
    void onLost(Runnable callback);

    /** Releases the hold (as {@link Mutex#unlock()} for this owner). Idempotent. */
    @Override
    void close();
}
