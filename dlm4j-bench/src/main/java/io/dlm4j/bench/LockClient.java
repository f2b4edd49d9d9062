package io.dlm4j.bench;

/**
 * One library under test, connected to one backend, as a fork uses it: a handle per thread
 * (separate owners), and the clean-up at the end.
 */
interface LockClient extends AutoCloseable {

    /** A handle on {@code key} for one thread, acting as {@code owner} where the library lets one choose. */
    LockHandle handle(String key, String owner) throws Exception;

    /** Whether {@link LockHandle#lock()} waits for a held lock (false: a try that must succeed). */
    default boolean canWait() {
        return true;
    }

    @Override
    default void close() throws Exception {
    }

    /** A lock as one thread uses it: acquire, release, acquire ... Not shared between threads. */
    interface LockHandle {
        /** Acquires, waiting as long as it takes if the library can wait. */
        void lock() throws Exception;

        void unlock() throws Exception;
    }
}
