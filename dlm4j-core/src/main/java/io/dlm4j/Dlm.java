package io.dlm4j;

import java.time.Duration;

/**
 * A distributed lock manager: one per application and backend, holding the defaults
 * ({@link DlmOptions}) from which {@link Mutex}es are made.
 *
 * <p>Thread-safe. Close it when the application stops: {@link #close()} releases every lease
 * still held through it.
 *
 * <p>Threads: a Dlm runs one scheduler thread (expiry timers, the timing of auto-refresh,
 * backend housekeeping), a refresh thread for the auto-refresh store calls, and a thread that runs
 * {@link Lease#onLost(Runnable)} callbacks one at a time (or {@link DlmOptions#callbackExecutor()}).
 * All are daemon threads; the last two exist only while they have work.
 *
 * <p>Closed: every method of the Dlm and of its mutexes, except {@link #close()}, throws
 * {@link IllegalStateException} once the Dlm is closed; a call in progress when it closes ends
 * with {@link IllegalStateException} too (never a backend failure caused by the shutdown), after
 * letting its store call finish, and leaves no hold behind. A {@link Lease} of a closed Dlm is no
 * longer valid; its {@code refresh()} returns false and its {@code close()} does nothing.
 */
public interface Dlm extends AutoCloseable {

    /**
     * A mutex on {@code key} with the default owner and ttl.
     *
     * @throws NullPointerException     if {@code key} is null
     * @throws IllegalArgumentException if {@code key} is not 1 to 512 characters of well-formed Unicode
     * @throws IllegalStateException    if this Dlm is closed
     */
    Mutex newMutex(String key);

    /**
     * A mutex on {@code key} with the default owner and the given ttl.
     *
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if the key breaks its rule, or the ttl is not positive or over 365 days
     * @throws IllegalStateException    if this Dlm is closed
     */
    Mutex newMutex(String key, Duration ttl);

    /**
     * A mutex as described; a null owner, ttl or autoRefresh falls back to this Dlm's defaults.
     *
     * @throws NullPointerException  if {@code options} is null
     * @throws IllegalStateException if this Dlm is closed
     */
    Mutex newMutex(MutexOptions options);

    /**
     * One round trip to the backend.
     *
     * @return how long the round trip took
     * @throws LockBackendException  if the backend cannot be reached within the operation timeout
     * @throws IllegalStateException if this Dlm is closed
     */
    Duration ping();

    /**
     * Refuses new calls, wakes the calls waiting in {@code lock()}, lets the calls in progress end
     * (within the operation timeout; they end with {@link IllegalStateException}), then releases
     * every hold still held through this Dlm, stops its threads and closes what it created itself
     * (never a client the user passed in). Idempotent.
     *
     * @throws LockBackendException if a release or the closing of the client failed; the Dlm is
     *                              closed all the same, and a hold that was not released ends at its ttl
     */
    @Override
    void close();
}
