package io.dlm4j.engine;

import io.dlm4j.LockBackendException;
import io.dlm4j.LockException;
import io.dlm4j.spi.LockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * Runs store operations through the Dlm's {@link CallGate} and turns client-library failures into
 * {@link LockBackendException}s, or into {@link IllegalStateException} when the Dlm was closed
 * while the call was in progress: then the failure is the news of the close, not of the backend.
 */
final class BackendCalls {

    private static final Logger LOG = LoggerFactory.getLogger(BackendCalls.class);

    private final LockStore store;
    private final CallGate gate;

    BackendCalls(LockStore store, CallGate gate) {
        this.store = store;
        this.gate = gate;
    }

    /** One store call as a call of its own: refused once the Dlm is closed. */
    <T> T call(String operation, Supplier<T> storeOperation) {
        enter();
        try {
            return inside(operation, storeOperation);
        } finally {
            gate.exit();
        }
    }

    /** Counts in a call made of several store operations ({@link #inside}); pair with {@link #exit()}. */
    void enter() {
        gate.enter(store.describe());
    }

    void exit() {
        gate.exit();
    }

    /** A store operation within a call already counted in by {@link #enter()}. */
    <T> T inside(String operation, Supplier<T> storeOperation) {
        try {
            return storeOperation.get();
        } catch (RuntimeException e) {
            throw translate(operation, e);
        }
    }

    /** A store operation of {@code close()} itself, whose failure is a backend failure. */
    <T> T whileClosing(String operation, Supplier<T> storeOperation) {
        try {
            return storeOperation.get();
        } catch (RuntimeException e) {
            throw backendFailure(operation, e);
        }
    }

    RuntimeException translate(String operation, RuntimeException e) {
        if (gate.isClosed()) {
            return new IllegalStateException("this Dlm was closed while the " + operation + " was in progress ("
                    + store.describe() + ")", e);
        }
        return backendFailure(operation, e);
    }

    private RuntimeException backendFailure(String operation, RuntimeException e) {
        if (e instanceof LockException) {
            return e;
        }
        return new LockBackendException(store.describe() + ": " + operation + " failed: " + e.getMessage(), e);
    }

    /** For background work whose failure has no caller to go to; skipped once the Dlm is closed. */
    void logFailure(String operation, Runnable storeOperation) {
        try {
            gate.enter(store.describe());
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            storeOperation.run();
        } catch (RuntimeException e) {
            if (!gate.isClosed()) {
                LOG.warn("{}: {} failed", store.describe(), operation, e);
            }
        } finally {
            gate.exit();
        }
    }
}
