package io.dlm4j.mongo;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoWriteException;
import com.mongodb.WriteConcern;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.Updates;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.StoredHold;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.exists;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Updates.combine;
import static com.mongodb.client.model.Updates.inc;
import static com.mongodb.client.model.Updates.max;
import static com.mongodb.client.model.Updates.set;
import static com.mongodb.client.model.Updates.unset;

/**
 * Locks as documents of the Go {@code mongolock} shape, {@code {_id: key, owner, expiry}}, plus a
 * {@code fence} field.
 *
 * <h2>Fencing tokens</h2>
 * A token is {@code (epoch - 1) * 2^32 + fence}. {@code fence} is the lock document's counter,
 * raised by one on every takeover in the same command that takes the lock. The lock document can
 * vanish (the prune, an operator), and its counter with it, so a lock
 * document that starts again at {@code fence} 1 is stamped with a new {@code epoch} from a counter
 * document {@code {_id: {fenceOf: key}}} that carries no {@code expiry} and so is never cleaned up.
 * Every epoch is greater than the last, so every token of a new lock document is greater than every
 * token of the documents before it; within one document {@code fence} rises. That holds whatever the
 * clocks say. Cost: a takeover of an existing document is one command; the first hold on a new
 * document takes two more (the epoch and the stamp). Bound: 2^32 takeovers of one document without
 * the document ever being cleaned up.
 *
 * <h2>Expiry</h2>
 * Judged by the server's clock, as an interval ({@link ServerClock#bounds()}) rather than a point:
 * an expiry is written as the latest the server's time can be plus the ttl rounded up to the
 * millisecond, and a hold is taken over only when its expiry is before the earliest the server's
 * time can be. So two clients whose estimates differ within their bounds never overlap, and the
 * time a holder is told it has left is a lower bound.
 */
final class MongoLockStore implements LockStore {

    static final String ID = "_id";
    static final String OWNER = "owner";
    static final String EXPIRY = "expiry";
    static final String FENCE = "fence";
    static final String EPOCH = "epoch";
    /**
     * {@code {id, expiry}}: the attempt that created or took over the hold, and the expiry it wrote.
     * Removed by every later write of dlm4j; a Go takeover leaves it but always writes a later
     * expiry, so undo matches on both.
     */
    static final String ATTEMPT = "attempt";
    static final String ATTEMPT_ID = ATTEMPT + ".id";
    static final String ATTEMPT_EXPIRY = "expiry";
    /** The Go package's index, created exactly as it does: {@code {expiry: 1}}, no TTL. */
    static final String CLEANUP_INDEX = "expired_locks";
    /** How far past its expiry a document must be before the Dlm's prune deletes it. */
    static final Duration PRUNE_GRACE = Duration.ofHours(1);
    static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    static final String FENCE_COUNTER = "fenceOf";
    static final long EPOCH_UNIT = 1L << 32;
    private static final Date RELEASED = new Date(0);

    /** Holds per refresh command: 10,000 auto-refreshed leases cost 20 commands per period. */
    private static final int REFRESH_BATCH_SIZE = 500;
    private static final int TRIES = 5;
    private static final int INDEX_OPTIONS_CONFLICT = 85;
    private static final int INDEX_KEY_SPECS_CONFLICT = 86;
    private static final Logger LOG = LoggerFactory.getLogger(MongoLockStore.class);
    private static final FindOneAndUpdateOptions UPSERT_AFTER =
            new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER);
    private static final FindOneAndUpdateOptions AFTER =
            new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER);

    private final MongoCollection<Document> locks;
    private final ServerClock clock;
    private final String description;
    private final AutoCloseable ownedClient;
    private volatile boolean indexed;
    /**
     * When the housekeeping prunes next (System.nanoTime()): a period after the store is made, so
     * that a burst of new Dlms does not start with a burst of deletes.
     */
    private volatile long nextPruneNanos = System.nanoTime() + PRUNE_EVERY.toNanos();
    /**
     * Runs the prunes, off the engine's refresh thread that runs {@link #housekeeping()}: a delete
     * of many documents must not hold up the refreshes. Made on the first prune.
     */
    private ExecutorService pruner;
    /** Set by {@link #close()}, read by a prune that the close cut short. */
    private volatile boolean closed;

    /**
     * @param ownedClient closed with the store; null when the user passed the collection in
     */
    MongoLockStore(MongoCollection<Document> collection, Duration operationTimeout, String address,
                   AutoCloseable ownedClient) {
        this(collection, operationTimeout, address, ownedClient, null);
    }

    /** @param clock null for the server's clock read through the collection; tests script one */
    MongoLockStore(MongoCollection<Document> collection, Duration operationTimeout, String address,
                   AutoCloseable ownedClient, ServerClock clock) {
        this.locks = withDefaults(collection, operationTimeout);
        this.clock = clock != null ? clock : new ServerClock(locks);
        this.description = "MongoDB " + (address == null ? "" : "at " + address + ", ")
                + "collection " + collection.getNamespace().getFullName();
        this.ownedClient = ownedClient;
    }

    /**
     * Majority, journaled writes unless the collection says otherwise: a lock acknowledged by one
     * member only can vanish in a failover, and two owners would then both hold it.
     */
    private static MongoCollection<Document> withDefaults(MongoCollection<Document> collection, Duration timeout) {
        MongoCollection<Document> result = collection;
        if (result.getWriteConcern().isServerDefault()) {
            result = result.withWriteConcern(WriteConcern.MAJORITY.withJournal(true));
        }
        if (result.getTimeout(TimeUnit.MILLISECONDS) == null) {
            result = result.withTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        return result;
    }

    /** Creates the Go package's index and reads the server's clock; retried on first use if it failed. */
    void prepare() {
        if (!indexed) {
            createCleanupIndex();
            indexed = true;
        }
        if (!clock.isMeasured()) {
            for (int i = 0; i < 3; i++) {
                clock.measure();
            }
        }
    }

    /**
     * {@code {expiry: 1}} named {@code expired_locks} and nothing else, as the Go package creates it:
     * a real mongod refuses an index of the same name with other options, so anything else would
     * make one of the two programs fail on a collection the other set up.
     */
    private void createCleanupIndex() {
        try {
            locks.createIndex(Indexes.ascending(EXPIRY), new IndexOptions().name(CLEANUP_INDEX));
        } catch (MongoCommandException e) {
            if (e.getErrorCode() != INDEX_OPTIONS_CONFLICT && e.getErrorCode() != INDEX_KEY_SPECS_CONFLICT) {
                throw e;
            }
            // Expiry never depends on the index, so locking goes on; but a TTL index (made by dlm4j
            // before issue 12) deletes documents by expiry alone, also holds a Go service took over.
            LOG.warn("{}: the index '{}' exists with other options than the Go package's {{expiry: 1}}: {}. "
                            + "If it is a TTL index left by an earlier dlm4j, replace it with "
                            + "'dlm4j mongo migrate-index' or MongoMaintenance.migrateCleanupIndex()",
                    description, CLEANUP_INDEX, e.getErrorMessage());
        }
    }

    /**
     * Replaces a TTL {@code expired_locks} (what dlm4j created before issue 12) by the Go
     * package's index; creates it if absent; leaves the Go package's as it is. Any other index of
     * that name is an operator's, and is left with an exception that says so.
     */
    MongoMaintenance.CleanupIndex migrateCleanupIndex() {
        Document existing = null;
        for (Document index : locks.listIndexes()) {
            if (CLEANUP_INDEX.equals(index.getString("name"))) {
                existing = index;
            }
        }
        if (existing == null) {
            createCleanupIndex();
            return MongoMaintenance.CleanupIndex.CREATED;
        }
        if (!isExpiryAscending(existing.get("key"))) {
            throw new IllegalStateException(description + ": the index '" + CLEANUP_INDEX + "' has the keys "
                    + existing.get("key") + ", not {expiry: 1}; it is not dlm4j's, so it is left as it is");
        }
        if (!existing.containsKey("expireAfterSeconds")) {
            return MongoMaintenance.CleanupIndex.ALREADY_THERE;
        }
        locks.dropIndex(CLEANUP_INDEX);
        createCleanupIndex();
        return MongoMaintenance.CleanupIndex.REPLACED_TTL_INDEX;
    }

    private static boolean isExpiryAscending(Object key) {
        return key instanceof Document keys && keys.size() == 1
                && keys.get(EXPIRY) instanceof Number direction && direction.doubleValue() == 1.0;
    }

    /**
     * Deletes the lock documents whose {@code expiry} is more than {@code grace} before the
     * earliest the server's time can be. The condition is the delete's own filter, so a document
     * that a takeover (by dlm4j or the Go package) makes live again meanwhile is not deleted; the
     * fence and clock documents have no {@code expiry} and are never matched. Tokens stay monotonic
     * because a new document gets a new epoch.
     *
     * @return how many documents were deleted
     */
    long prune(Duration grace) {
        if (grace == null || grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be null or negative: " + grace);
        }
        Date before = new Date(clock.bounds().earliestMillis() - grace.toMillis());
        return locks.deleteMany(lt(EXPIRY, before)).getDeletedCount();
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, null);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        prepare();
        for (int i = 0; i < TRIES; i++) {
            Acquisition acquisition = tryAcquire(key, owner, ttl, attempt);
            if (acquisition != null) {
                return acquisition;
            }
        }
        // Taken and released again between our commands every time: busy, not broken. The engine
        // tries again after a pause (tryLock reports it as not acquired).
        return Acquisition.heldBy(new StoredHold("(changing hands too fast to tell)", 0, Duration.ZERO));
    }

    /** Null when the document changed between two commands, and it is worth another go. */
    private Acquisition tryAcquire(String key, String owner, Duration ttl, String attempt) {
        ServerClock.Bounds now = clock.bounds();
        Date expiry = now.expiryAfter(ttl);
        Bson mark = attempt == null ? unset(ATTEMPT)
                : set(ATTEMPT, new Document("id", attempt).append(ATTEMPT_EXPIRY, expiry));
        try {
            Document taken = locks.findOneAndUpdate(
                    and(eq(ID, key), lt(EXPIRY, now.earliest())),
                    combine(set(OWNER, owner), set(EXPIRY, expiry), mark, inc(FENCE, 1L)),
                    UPSERT_AFTER);
            return ownHold(key, owner, taken, now).map(Acquisition::acquired).orElse(null);
        } catch (MongoWriteException | MongoCommandException e) {
            if (!isDuplicateKey(e)) {
                throw e;
            }
        }
        // the document exists with a live expiry: ours to extend, or another owner's
        Document current = locks.find(eq(ID, key)).first();
        if (current != null && !(current.get(EXPIRY) instanceof Date)) {
            throw new IllegalStateException("the lock document of '" + key + "' has no date in '" + EXPIRY
                    + "', so it can never expire: " + current.toJson());
        }
        if (current == null || !isLive(current, now)) {
            return null;
        }
        if (!owner.equals(current.getString(OWNER))) {
            return Acquisition.heldBy(othersHold(current, now));
        }
        Document extended = locks.findOneAndUpdate(
                and(eq(ID, key), eq(OWNER, owner), gte(EXPIRY, now.earliest())), extendTo(expiry), AFTER);
        return extended == null ? null : ownHold(key, owner, extended, now).map(Acquisition::refreshed).orElse(null);
    }

    /**
     * The owner touches its hold again: the later of both expiries ({@code $max}), so that no
     * shorter ttl cuts short what another lease of the owner counts on, and no attempt can undo it.
     */
    private static Bson extendTo(Date expiry) {
        return combine(max(EXPIRY, expiry), unset(ATTEMPT));
    }

    /** The caller's hold in {@code document}, stamped with an epoch first if it has none yet. */
    private Optional<StoredHold> ownHold(String key, String owner, Document document, ServerClock.Bounds now) {
        Document stamped = token(document) > 0 ? document : stamp(key, owner);
        return stamped == null ? Optional.empty() : Optional.of(ownHold(stamped, now));
    }

    private Document stamp(String key, String owner) {
        Document counter = locks.findOneAndUpdate(eq(ID, new Document(FENCE_COUNTER, key)), inc(EPOCH, 1L),
                UPSERT_AFTER);
        Document stamped = locks.findOneAndUpdate(and(eq(ID, key), eq(OWNER, owner), exists(EPOCH, false)),
                combine(set(EPOCH, counter.get(EPOCH)), max(FENCE, 1L)), AFTER);
        if (stamped != null) {
            return stamped;
        }
        // another process of the same owner may have stamped it first; anything else means we lost it
        Document current = locks.find(and(eq(ID, key), eq(OWNER, owner))).first();
        return current != null && token(current) > 0 && isLive(current, clock.bounds()) ? current : null;
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        prepare();
        ServerClock.Bounds now = clock.bounds();
        Document refreshed = locks.findOneAndUpdate(and(eq(ID, key), eq(OWNER, owner), gte(EXPIRY, now.earliest())),
                extendTo(now.expiryAfter(ttl)), AFTER);
        return refreshed == null ? Optional.empty() : Optional.of(ownHold(refreshed, now).remaining());
    }

    /**
     * One {@code update} command with a statement per hold. Its reply counts matches but doesn't
     * say which: only when some hold was not extended does a second command read back which ones
     * now carry at least the expiry this batch asked for. A hold that lasts longer keeps its expiry,
     * and reports the ttl asked for: less than the store has, never more.
     */
    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        prepare();
        ServerClock.Bounds now = clock.bounds();
        List<UpdateOneModel<Document>> updates = holds.stream()
                .map(h -> new UpdateOneModel<Document>(
                        and(eq(ID, h.key()), eq(OWNER, h.owner()), gte(EXPIRY, now.earliest())),
                        extendTo(now.expiryAfter(h.ttl()))))
                .toList();
        int matched = locks.bulkWrite(updates, new BulkWriteOptions().ordered(false)).getMatchedCount();
        if (matched == holds.size()) {
            return holds.stream().map(h -> Optional.of(now.surelyLeft(now.expiryAfter(h.ttl())))).toList();
        }
        Map<Object, Document> stored = new HashMap<>();
        locks.find(in(ID, holds.stream().map(HoldToRefresh::key).toList()))
                .forEach(document -> stored.put(document.get(ID), document));
        return holds.stream().map(h -> {
            Document document = stored.get(h.key());
            // an expired hold matched nothing and has an earlier expiry; a later one is this owner's live hold
            boolean extended = document != null && h.owner().equals(document.getString(OWNER))
                    && document.get(EXPIRY) instanceof Date expiry && !expiry.before(now.expiryAfter(h.ttl()));
            return extended ? Optional.of(ownHold(document, now).remaining()) : Optional.<Duration>empty();
        }).toList();
    }

    @Override
    public int refreshBatchSize() {
        return REFRESH_BATCH_SIZE;
    }

    /**
     * Marks the hold expired rather than deleting it: the document keeps its fence counter, so the
     * next takeover is one command; the prune removes it later.
     */
    @Override
    public boolean release(String key, String owner) {
        prepare();
        return locks.updateOne(and(eq(ID, key), eq(OWNER, owner), gte(EXPIRY, clock.bounds().earliest())),
                freed()).getMatchedCount() > 0;
    }

    /**
     * Frees the hold only if {@code attempt} wrote it and nothing wrote its expiry since: a relock
     * or refresh by dlm4j removes the mark; a Go takeover or refresh leaves the mark but writes
     * another expiry. The check is in the update's filter, so nothing can slip in between.
     */
    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        prepare();
        Document marked = locks.find(and(eq(ID, key), eq(OWNER, owner), eq(ATTEMPT_ID, attempt))).first();
        if (marked == null || !(marked.get(ATTEMPT) instanceof Document mark)
                || !(mark.get(ATTEMPT_EXPIRY) instanceof Date written)) {
            return Undo.NOTHING_TO_UNDO;
        }
        long freed = locks.updateOne(and(eq(ID, key), eq(OWNER, owner), eq(ATTEMPT_ID, attempt), eq(EXPIRY, written)),
                freed()).getModifiedCount();
        return freed > 0 ? Undo.RELEASED : Undo.NOTHING_TO_UNDO;
    }

    /** Expired rather than deleted: the document keeps its fence counter. */
    private static Bson freed() {
        return combine(set(EXPIRY, RELEASED), unset(ATTEMPT));
    }

    @Override
    public Optional<StoredHold> read(String key) {
        prepare();
        ServerClock.Bounds now = clock.bounds();
        Document current = locks.find(eq(ID, key)).first();
        return current != null && isLive(current, now) ? Optional.of(othersHold(current, now)) : Optional.empty();
    }

    @Override
    public Duration ping() {
        long start = System.nanoTime();
        locks.find(eq(ID, ServerClock.PROBE_ID)).first();
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void housekeeping() {
        housekeeping(System.nanoTime());
    }

    /** {@link #housekeeping()} at {@code nowNanos}; a seam for tests of the prune's schedule. */
    void housekeeping(long nowNanos) {
        clock.measure();
        if (nowNanos - nextPruneNanos >= 0) {
            nextPruneNanos = nowNanos + PRUNE_EVERY.toNanos();
            pruneInBackground();
        }
    }

    private synchronized void pruneInBackground() {
        if (closed) {
            return;
        }
        if (pruner == null) {
            // one thread, and only while a prune runs: a Dlm idles with none of its own here
            ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), runnable -> {
                        Thread thread = new Thread(runnable, "dlm4j-mongo-prune");
                        thread.setDaemon(true);
                        return thread;
                    });
            executor.allowCoreThreadTimeOut(true);
            pruner = executor;
        }
        try {
            pruner.execute(() -> {
                try {
                    long deleted = prune(PRUNE_GRACE);
                    if (deleted > 0) {
                        LOG.debug("{}: pruned {} lock documents expired over {} ago", description, deleted, PRUNE_GRACE);
                    }
                } catch (RuntimeException e) {
                    if (!closed) { // a prune cut short by close() is no failure to report
                        LOG.warn("{}: pruning old lock documents failed; trying again in {}: {}", description,
                                PRUNE_EVERY, e.getMessage());
                    }
                }
            });
        } catch (RejectedExecutionException closed) {
            // the store is closing
        }
    }

    @Override
    public Duration housekeepingInterval() {
        return Duration.ofSeconds(10);
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (pruner != null) {
                pruner.shutdownNow();
            }
        }
        if (ownedClient != null) {
            try {
                ownedClient.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the MongoDB client failed", e);
            }
        }
    }

    ServerClock clock() {
        return clock;
    }

    /** The caller's own hold: the time it surely has left, a lower bound. */
    private static StoredHold ownHold(Document document, ServerClock.Bounds now) {
        return new StoredHold(document.getString(OWNER), token(document), now.surelyLeft(document.getDate(EXPIRY)));
    }

    /** A hold as others see it: the time until it may be taken over, an upper bound. */
    private static StoredHold othersHold(Document document, ServerClock.Bounds now) {
        return new StoredHold(document.getString(OWNER), token(document), now.untilFree(document.getDate(EXPIRY)));
    }

    /** Live unless surely past: the takeover filter's {@code expiry < earliest}, negated. */
    private static boolean isLive(Document document, ServerClock.Bounds now) {
        return document.get(EXPIRY) instanceof Date expiry && !expiry.before(now.earliest())
                && document.get(OWNER) instanceof String;
    }

    /** The document's token; 0 while it has no epoch (new, or written by the Go package). */
    static long token(Document document) {
        if (!(document.get(EPOCH) instanceof Number epoch) || !(document.get(FENCE) instanceof Number fence)) {
            return 0;
        }
        return (epoch.longValue() - 1) * EPOCH_UNIT + fence.longValue();
    }

    private static boolean isDuplicateKey(RuntimeException e) {
        if (e instanceof MongoWriteException write) {
            return write.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
        }
        return ErrorCategory.fromErrorCode(((MongoCommandException) e).getErrorCode()) == ErrorCategory.DUPLICATE_KEY;
    }
}
