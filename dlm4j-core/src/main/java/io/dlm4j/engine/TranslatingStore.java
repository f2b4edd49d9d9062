package io.dlm4j.engine;

import io.dlm4j.LockBackendException;
import io.dlm4j.LockException;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.RefreshResult;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The backend's {@link LockStore} as the engine sees it: every operation that can fail in the
 * client library names itself ("refresh of 'k'") and fails with a {@link LockBackendException}
 * that names {@link #describe()} and keeps the cause, or with an {@link IllegalStateException} when
 * the Dlm was closed while it ran: then the failure is the news of the close, not of the backend.
 * A {@link LockException} of the store's own passes unchanged. This is the one place that turns
 * store failures into the engine's exceptions.
 *
 * <p>It does not count calls in: that stays with the {@link CallGate}, at the call sites
 * ({@code dlm.gate().call(() -> dlm.store().refresh(...))}). A call of the Dlm is not one store
 * operation: a {@code lock()} wait, an attempt with its undo, an unlock inside the holder's
 * section are each one counted call around several operations, and an undo inside an attempt
 * must still reach the store after the close began (the close waits for it). A gate inside every
 * operation would count those twice and refuse the undo; a gate beside the store lets each call
 * site say which call it counts, and the store's operations stay the SPI's.
 *
 * <p>{@link #whileClosing()} is the form for the operations of {@code close()} itself (and of an
 * acquire the close waits for), whose failure is a backend failure even though the Dlm is closed.
 */
final class TranslatingStore implements LockStore {

    private final LockStore store;
    private final BooleanSupplier dlmClosed;
    private final boolean closing;

    TranslatingStore(LockStore store, BooleanSupplier dlmClosed) {
        this(store, dlmClosed, false);
    }

    private TranslatingStore(LockStore store, BooleanSupplier dlmClosed, boolean closing) {
        this.store = store;
        this.dlmClosed = dlmClosed;
        this.closing = closing;
    }

    /** The same store for the close's own operations: a failure is a backend failure, never the news of the close. */
    TranslatingStore whileClosing() {
        return closing ? this : new TranslatingStore(store, dlmClosed, true);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        String operation = acquireOf(key);
        return granted(operation, translated(operation, () -> store.acquire(key, owner, ttl)));
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        String operation = acquireOf(key);
        return granted(operation, translated(operation, () -> store.acquire(key, owner, ttl, attempt)));
    }

    /**
     * As {@link #acquire(String, String, Duration, String)}, handing a failure to {@code undo}
     * (the client library's exception, to attach what the undo met) before translating it: the
     * undo is part of the same call, so whether the Dlm was closed meanwhile is judged after it.
     */
    Acquisition acquire(String key, String owner, Duration ttl, String attempt, Consumer<RuntimeException> undo) {
        String operation = acquireOf(key);
        Acquisition acquisition;
        try {
            acquisition = store.acquire(key, owner, ttl, attempt);
        } catch (RuntimeException e) {
            undo.accept(e);
            throw translate(operation, e);
        }
        return granted(operation, acquisition);
    }

    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        return translated(undoOf(key), () -> store.undoAcquire(key, owner, attempt));
    }

    /** The {@link #release} that undoes an acquire on a store that keeps no marks; it fails as the undo. */
    boolean releaseUndoingAcquire(String key, String owner) {
        return translated(undoOf(key), () -> store.release(key, owner));
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return translated("refresh of '" + key + "'", () -> store.refresh(key, owner, ttl));
    }

    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        return translated(refreshOf(holds), () -> store.refreshAll(holds));
    }

    @Override
    public List<RefreshResult> refreshEach(List<HoldToRefresh> holds) {
        return translated(refreshOf(holds), () -> store.refreshEach(holds));
    }

    @Override
    public int refreshBatchSize() {
        return store.refreshBatchSize();
    }

    @Override
    public boolean release(String key, String owner) {
        return translated("release of '" + key + "'", () -> store.release(key, owner));
    }

    @Override
    public Optional<StoredHold> read(String key) {
        return translated("read of '" + key + "'", () -> store.read(key));
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        return translated("subscription to '" + key + "'", () -> store.onRelease(key, wake));
    }

    @Override
    public Duration ping() {
        return translated("ping", store::ping);
    }

    @Override
    public String describe() {
        return store.describe();
    }

    @Override
    public void housekeeping() {
        translated("housekeeping", () -> {
            store.housekeeping();
            return null;
        });
    }

    @Override
    public Duration housekeepingInterval() {
        return store.housekeepingInterval();
    }

    @Override
    public void close() {
        translated("close", () -> {
            store.close();
            return null;
        });
    }

    /** How a batch of refreshes is named, in failures and in the refresher's warnings. */
    static String refreshOf(List<HoldToRefresh> holds) {
        return holds.size() == 1
                ? "refresh of '" + holds.get(0).key() + "'"
                : "refresh of " + holds.size() + " leases";
    }

    private static String acquireOf(String key) {
        return "acquire of '" + key + "'";
    }

    private static String undoOf(String key) {
        return "undo of the acquire of '" + key + "'";
    }

    /** A grant without a fencing token breaks the SPI's rules: the acquire failed, though the store answered. */
    private Acquisition granted(String operation, Acquisition acquisition) {
        if (acquisition.isOurs() && acquisition.hold().fencingToken() <= 0) {
            throw translate(operation, new IllegalStateException(
                    "the store granted a hold without a fencing token (" + acquisition.hold() + ")"));
        }
        return acquisition;
    }

    private <T> T translated(String operation, Supplier<T> storeOperation) {
        try {
            return storeOperation.get();
        } catch (RuntimeException e) {
            throw translate(operation, e);
        }
    }

    private RuntimeException translate(String operation, RuntimeException e) {
        if (!closing && dlmClosed.getAsBoolean()) {
            return new IllegalStateException("this Dlm was closed while the " + operation + " was in progress ("
                    + store.describe() + ")", e);
        }
        if (e instanceof LockException) {
            return e;
        }
        return new LockBackendException(store.describe() + ": " + operation + " failed: " + e.getMessage(), e);
    }
}
