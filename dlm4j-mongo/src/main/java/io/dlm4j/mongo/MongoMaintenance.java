package io.dlm4j.mongo;

import com.mongodb.MongoException;
import com.mongodb.client.MongoCollection;
import io.dlm4j.LockBackendException;
import org.bson.Document;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Upkeep of a lock collection, apart from locking: pruning old lock documents, and replacing the
 * TTL index {@code expired_locks} that dlm4j created before it matched the Go package's. The CLI's
 * {@code dlm4j mongo prune} and {@code dlm4j mongo migrate-index} call it.
 *
 * <p>Failures of the server are {@link LockBackendException}s that name the collection.
 */
public final class MongoMaintenance implements AutoCloseable {

    /** What a Dlm's own prune keeps: documents whose expiry passed less than this long ago. */
    public static final Duration DEFAULT_PRUNE_GRACE = MongoLockStore.PRUNE_GRACE;

    /** What {@link #migrateCleanupIndex()} found and did. */
    public enum CleanupIndex {
        /** There was no {@code expired_locks}; it is now the Go package's. */
        CREATED,
        /** {@code expired_locks} was the Go package's already; nothing changed. */
        ALREADY_THERE,
        /** {@code expired_locks} was a TTL index; it was dropped and created as the Go package's. */
        REPLACED_TTL_INDEX
    }

    private final MongoLockStore store;

    private MongoMaintenance(MongoLockStore store) {
        this.store = store;
    }

    /** On {@code collection}; closing it leaves the collection's client open. */
    public static MongoMaintenance of(MongoCollection<Document> collection, Duration operationTimeout) {
        Objects.requireNonNull(collection, "collection must not be null");
        requirePositive(operationTimeout);
        return new MongoMaintenance(new MongoLockStore(collection, operationTimeout, null, null));
    }

    /** On the collection of a {@code mongodb://host:port/db?collection=locks} URI, with a client it closes. */
    public static MongoMaintenance fromUri(String uri, Duration operationTimeout) {
        Objects.requireNonNull(uri, "uri must not be null");
        requirePositive(operationTimeout);
        return new MongoMaintenance(MongoDlmProvider.openStore(uri, operationTimeout));
    }

    private static void requirePositive(Duration operationTimeout) {
        if (operationTimeout == null || operationTimeout.isZero() || operationTimeout.isNegative()) {
            throw new IllegalArgumentException("operationTimeout must be positive: " + operationTimeout);
        }
    }

    /**
     * Deletes the lock documents whose {@code expiry} is more than {@code grace} before the
     * server's time (the earliest it can be), in one {@code delete} whose filter is that condition.
     * A live hold, also one the Go package took over, is never deleted; the grace is there for Go
     * clients, which write expiries by their own clocks.
     *
     * @return how many documents were deleted
     */
    public long prune(Duration grace) {
        if (grace == null || grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be null or negative: " + grace);
        }
        return call("prune", () -> store.prune(grace));
    }

    /**
     * Makes {@code expired_locks} the Go package's {@code {expiry: 1}} without {@code expireAfterSeconds}:
     * drops and recreates a TTL index of that name, creates it if absent. An index of that name
     * on other keys is left alone, with an {@link IllegalStateException}. Run it once per
     * collection that a dlm4j before issue 12 set up; the Dlms on it need no restart.
     */
    public CleanupIndex migrateCleanupIndex() {
        return call("migrating the index expired_locks", store::migrateCleanupIndex);
    }

    /** The collection and, for a URI, its hosts (never credentials). */
    public String describe() {
        return store.describe();
    }

    @Override
    public void close() {
        store.close();
    }

    private <T> T call(String what, Supplier<T> operation) {
        try {
            return operation.get();
        } catch (MongoException e) {
            throw new LockBackendException(store.describe() + ": " + what + " failed: " + e.getMessage(), e);
        }
    }
}
