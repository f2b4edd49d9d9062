package io.dlm4j.bench;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import io.dlm4j.DlmOptions;
import io.dlm4j.mongo.MongoDlm;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.mongo.MongoLockProvider;
import org.bson.Document;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

/** The libraries measured on the MongoDB wire server. */
final class MongoLibraries {

    static final String DATABASE = "bench";

    private MongoLibraries() {
    }

    static LockClient create(String library, MongoClient client, Duration ttl) {
        MongoDatabase db = client.getDatabase(DATABASE);
        return switch (library) {
            case "raw" -> new RawMongo(db.getCollection("raw"), ttl, false, client);
            case "polling" -> new RawMongo(db.getCollection("poll"), ttl, true, client);
            case "dlm4j" -> new DlmClient(MongoDlm.create(db.getCollection(MongoDlm.DEFAULT_COLLECTION),
                    DlmOptions.builder().defaultTtl(ttl).build()), ttl, client::close);
            case "shedlock" -> new ShedLock(db, ttl, client);
            default -> {
                client.close();
                throw new IllegalArgumentException("library must be one of raw, polling, dlm4j, shedlock for MongoDB, was '"
                        + library + "'");
            }
        };
    }

    /**
     * The minimum a lock needs in MongoDB, the way the Go package does it: one upsert that matches
     * only an expired hold (a live one makes it a duplicate key), and one delete of the owner's document.
     */
    static final class RawMongo implements LockClient {
        private final MongoCollection<Document> locks;
        private final Duration ttl;
        private final boolean polling;
        private final MongoClient client;

        RawMongo(MongoCollection<Document> locks, Duration ttl, boolean polling, MongoClient client) {
            this.locks = locks;
            this.ttl = ttl;
            this.polling = polling;
            this.client = client;
        }

        @Override
        public boolean canWait() {
            return polling;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            PollingLock.Attempt attempt = new PollingLock.Attempt() {
                @Override
                public boolean tryLock() {
                    Date now = new Date();
                    try {
                        locks.updateOne(Filters.and(Filters.eq("_id", key), Filters.lt("expiry", now)),
                                Updates.combine(Updates.set("owner", owner),
                                        Updates.set("expiry", new Date(now.getTime() + ttl.toMillis()))),
                                new UpdateOptions().upsert(true));
                        return true;
                    } catch (MongoWriteException e) {
                        if (e.getError().getCategory() == ErrorCategory.DUPLICATE_KEY) {
                            return false;
                        }
                        throw e;
                    }
                }

                @Override
                public void unlock() {
                    locks.deleteOne(Filters.and(Filters.eq("_id", key), Filters.eq("owner", owner)));
                }
            };
            return polling ? new PollingLock(attempt) : new TryOnlyLock(attempt, key);
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /** ShedLock's MongoDB provider: try-lock only (it cannot wait); every thread of a JVM is one owner. */
    static final class ShedLock implements LockClient {
        private final MongoLockProvider provider;
        private final Duration ttl;
        private final MongoClient client;

        ShedLock(MongoDatabase db, Duration ttl, MongoClient client) {
            this.provider = new MongoLockProvider(db);
            this.ttl = ttl;
            this.client = client;
        }

        @Override
        public boolean canWait() {
            return false;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            return new LockHandle() {
                private SimpleLock lock;

                @Override
                public void lock() {
                    Optional<SimpleLock> got = provider.lock(new LockConfiguration(Instant.now(), key, ttl, Duration.ZERO));
                    lock = got.orElseThrow(() -> new IllegalStateException(
                            "ShedLock did not get '" + key + "' in an uncontended run"));
                }

                @Override
                public void unlock() {
                    lock.unlock();
                }
            };
        }

        @Override
        public void close() {
            client.close();
        }
    }
}
