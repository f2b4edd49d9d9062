package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Updates.combine;
import static com.mongodb.client.model.Updates.set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compatibility with the documents of the Go {@code mongolock} package: {@code {_id: key, owner,
 * expiry: date}} in the same collection, read and written by both. Port of the Go tests' "the
 * stored document" scenario. The embedded server shares this JVM's clock, so the server's "now" is
 * {@link System#currentTimeMillis()} here.
 */
@WithEmbeddedMongo
class MongoDocumentFormatTest {

    private static final Duration SLACK = Duration.ofSeconds(2);

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("dlm4j_test").getCollection("format_locks");
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
    }

    private static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static Dlm dlm(String owner) {
        return MongoDlm.create(locks, DlmOptions.builder().defaultOwner(owner).build());
    }

    private static Document stored(String key) {
        return locks.find(eq("_id", key)).first();
    }

    @Test
    void lockWritesTheGoDocumentShapePlusFence() throws Exception {
        String key = newKey("shape");
        try (Dlm dlm = dlm("java-app")) {
            long before = System.currentTimeMillis();
            Lease lease = dlm.newMutex(key, Duration.ofSeconds(20)).lock(Duration.ZERO);
            long after = System.currentTimeMillis();

            Document document = stored(key);
            assertThat(document).as("the lock document of %s", key).isNotNull();
            // the Go package's fields plus fence; more fields are allowed (the contract says extra fields are fine)
            assertThat(document.keySet()).contains("_id", "owner", "expiry", "fence");
            assertThat(document.get("_id")).isEqualTo(key);
            assertThat(document.get("owner")).isEqualTo("java-app");
            assertThat(document.get("expiry")).as("expiry is a BSON date").isInstanceOf(Date.class);
            long expiry = document.getDate("expiry").getTime();
            assertThat(expiry).isBetween(before + 20_000 - SLACK.toMillis(), after + 20_000 + SLACK.toMillis());
            assertThat(document.get("fence")).as("fence is a 64-bit integer").isInstanceOf(Long.class);
            assertThat(lease.fencingToken()).isPositive();
            lease.close();
        }
    }

    @Test
    void aLiveGoDocumentWithoutFenceBlocksOtherOwners() {
        String key = newKey("go-live");
        Date goExpiry = new Date(System.currentTimeMillis() + 30_000);
        // as the Go package writes it: no fence field
        locks.insertOne(new Document("_id", key).append("owner", "go-app").append("expiry", goExpiry));

        try (Dlm dlm = dlm("java-app")) {
            Mutex mutex = dlm.newMutex(key);
            assertThat(mutex.tryLock()).isEmpty();

            Optional<LockInfo> holder = mutex.holder();
            assertThat(holder).isPresent();
            assertThat(holder.get().owner()).isEqualTo("go-app");
            assertThat(holder.get().fencingToken()).isZero();
            assertThat(holder.get().key()).isEqualTo(key);
            assertThat(holder.get().expiresAt().toEpochMilli())
                    .isBetween(goExpiry.getTime() - SLACK.toMillis(), goExpiry.getTime() + SLACK.toMillis());
        }
        // the failed try left the Go package's document as it was
        assertThat(stored(key)).isEqualTo(
                new Document("_id", key).append("owner", "go-app").append("expiry", goExpiry));
    }

    @Test
    void anExpiredGoDocumentIsTakenOver() {
        String key = newKey("go-expired");
        locks.insertOne(new Document("_id", key).append("owner", "go-app")
                .append("expiry", new Date(System.currentTimeMillis() - 5_000)));

        try (Dlm dlm = dlm("java-app")) {
            Mutex mutex = dlm.newMutex(key, Duration.ofSeconds(20));
            long before = System.currentTimeMillis();
            Optional<Lease> lease = mutex.tryLock();
            assertThat(lease).isPresent();
            assertThat(lease.get().fencingToken()).isPositive();

            Document document = stored(key);
            assertThat(document.getString("owner")).isEqualTo("java-app");
            assertThat(document.getDate("expiry").getTime()).isGreaterThanOrEqualTo(before + 20_000 - SLACK.toMillis());
            assertThat(document.get("fence")).isInstanceOf(Long.class);
            assertThat(mutex.holder()).map(LockInfo::owner).contains("java-app");
            lease.get().close();
        }
    }

    @Test
    void unlockLeavesADocumentTheGoPackageCanTakeOver() {
        String key = newKey("unlock");
        try (Dlm dlm = dlm("java-app")) {
            Mutex mutex = dlm.newMutex(key);
            assertThat(mutex.tryLock()).isPresent();
            mutex.unlock();

            Date now = new Date();
            long expiredOrGone = locks.countDocuments(and(eq("_id", key), lt("expiry", now)))
                    + (locks.countDocuments(eq("_id", key)) == 0 ? 1 : 0);
            assertThat(expiredOrGone)
                    .as("after unlock the document is gone or matches {_id, expiry: {$lt: now}}: %s", stored(key))
                    .isEqualTo(1);

            // the Go package's lock: an upsert on {_id, expiry < now}
            Date goExpiry = new Date(System.currentTimeMillis() + 30_000);
            Document taken = locks.findOneAndUpdate(and(eq("_id", key), lt("expiry", new Date())),
                    combine(set("owner", "go-app"), set("expiry", goExpiry)),
                    new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
            assertThat(taken).isNotNull();
            assertThat(taken.getString("owner")).isEqualTo("go-app");

            // and Java sees the Go package's hold
            assertThat(mutex.holder()).map(LockInfo::owner).contains("go-app");
            assertThat(dlm.newMutex(key).tryLock()).isEmpty();
        }
    }

    /**
     * Issue 12 item 6: exactly the Go package's index, {@code {expiry: 1}} named {@code expired_locks}
     * without {@code expireAfterSeconds}; a real mongod refuses a second index of that name with
     * other options. The embedded server enforces no such conflict, so the command is checked.
     */
    @Test
    void createSendsTheGoPackagesIndexExpiredLocks() {
        CommandRecorder recorder = new CommandRecorder();
        MongoClientSettings settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(server.connectionString()))
                .addCommandListener(recorder)
                .build();
        try (MongoClient watched = MongoClients.create(settings)) {
            MongoCollection<Document> collection = watched.getDatabase("dlm4j_test").getCollection("format_index");
            try (Dlm ignored = MongoDlm.create(collection, DlmOptions.builder().defaultOwner("java-app").build())) {
                List<CommandRecorder.Command> createIndexes = recorder.all().stream()
                        .filter(c -> c.name().equals("createIndexes")).toList();
                assertThat(createIndexes).as("createIndexes commands sent by MongoDlm.create").hasSize(1);
                BsonDocument command = createIndexes.get(0).body();
                assertThat(command.getString("createIndexes").getValue()).isEqualTo("format_index");
                assertThat(command.getArray("indexes")).as("the index specs sent")
                        .containsExactly(BsonDocument.parse("{key: {expiry: 1}, name: 'expired_locks'}"));
            }
        }
    }
}
