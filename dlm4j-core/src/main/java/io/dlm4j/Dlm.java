package io.dlm4j;

import java.time.Duration;

/**
 * A distributed lock manager: one per application and backend, holding the defaults
 * ({@link DlmOptions}) from which {@link Mutex}es are made.
 *
 * <p>Thread-safe. Close it when the application stops: {@link #close()} releases every lease
 * still held through it.
 */
public interface Dlm extends AutoCloseable {

    /** A mutex on {@code key} with the default owner and ttl. */
    Mutex newMutex(String key);

    /** A mutex on {@code key} with the default owner and the given ttl. */
    Mutex newMutex(String key, Duration ttl);

    /** A mutex as described; a null owner, ttl or autoRefresh falls back to this Dlm's defaults. */
    Mutex newMutex(MutexOptions options);

    /**
     * One round trip to the backend.
     *
     * @return how long the round trip took
     * @throws LockBackendException if the backend cannot be reached within the operation timeout
     */
    Duration ping();

    /**
     * Releases every lease still held through this Dlm, stops its threads and closes what it
     * created itself (never a client the user passed in). Idempotent.
     */
    @Override
    void close();
}
