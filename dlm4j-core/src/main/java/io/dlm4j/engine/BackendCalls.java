package io.dlm4j.engine;

import io.dlm4j.LockBackendException;
import io.dlm4j.LockException;
import io.dlm4j.spi.LockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/** Runs store operations and turns client-library failures into {@link LockBackendException}s. */
final class BackendCalls {

    private static final Logger LOG = LoggerFactory.getLogger(BackendCalls.class);

    private final LockStore store;

    BackendCalls(LockStore store) {
        this.store = store;
    }

    <T> T call(String operation, Supplier<T> storeOperation) {
        try {
            return storeOperation.get();
        } catch (RuntimeException e) {
            throw translate(operation, e);
        }
    }

    RuntimeException translate(String operation, RuntimeException e) {
        if (e instanceof LockException) {
            return e;
        }
        return new LockBackendException(
                store.describe() + ": " + operation + " failed: " + e.getMessage(), e);
    }

    /** For background work whose failure has no caller to go to. */
    void logFailure(String operation, Runnable storeOperation) {
        try {
            storeOperation.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: {} failed", store.describe(), operation, e);
        }
    }
}
