package io.dlm4j.memory;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.Optional;

/** A {@link LockStore} on the JVM-wide {@link LockTable}. */
final class InMemoryLockStore implements LockStore {

    private final LockTable table;

    InMemoryLockStore(LockTable table) {
        this.table = table;
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return table.acquire(key, owner, ttl, null);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        return table.acquire(key, owner, ttl, attempt);
    }

    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        return table.undo(key, owner, attempt) ? Undo.RELEASED : Undo.NOTHING_TO_UNDO;
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return table.refresh(key, owner, ttl);
    }

    @Override
    public boolean release(String key, String owner) {
        return table.release(key, owner);
    }

    @Override
    public Optional<StoredHold> read(String key) {
        return table.read(key);
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        return table.subscribe(key, wake);
    }

    @Override
    public Duration ping() {
        return Duration.ZERO;
    }

    @Override
    public String describe() {
        return "in-memory lock table of this JVM";
    }

    @Override
    public void close() {
        // the table outlives every Dlm, as a server outlives its clients
    }
}
