package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoClientSettings;
import com.mongodb.WriteConcern;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How many commands each operation costs, counted with a {@link com.mongodb.event.CommandListener}.
 * The driver's own commands and the ServerClock's probe (which the Dlm's housekeeping sends every
 * 10 s) are left out of the counts.
 */
@WithEmbeddedMongo
class MongoRoundTripTest {

    private static final Set<String> WRITES = Set.of("findAndModify", "update", "insert", "delete");

    private static EmbeddedMongoServer server;

    private CommandRecorder recorder;
    private MongoClient client;
    private MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
    }

    @BeforeEach
    void connect() {
        recorder = new CommandRecorder();
        client = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(server.connectionString()))
                .addCommandListener(recorder)
                .build());
        locks = client.getDatabase("dlm4j_test").getCollection("round_trips");
    }

    @AfterEach
    void disconnect() {
        client.close();
    }

    private static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private Dlm dlm(MongoCollection<Document> collection, String owner) {
        return MongoDlm.create(collection, DlmOptions.builder().defaultOwner(owner).build());
    }

    /** Locks and unlocks {@code key} once, so that its lock document exists. */
    private static void prepareDocument(Mutex mutex) {
        assertThat(mutex.tryLock()).isPresent();
        mutex.unlock();
    }

    @Test
    void tryLockOnAnExistingDocumentIsOneFindAndModify() {
        try (Dlm dlm = dlm(locks, "a")) {
            Mutex mutex = dlm.newMutex(newKey("try"));
            prepareDocument(mutex);

            recorder.clear();
            Optional<Lease> lease = mutex.tryLock();
            List<String> commands = recorder.lockCommandNames();

            assertThat(lease).isPresent();
            assertThat(commands).containsExactly("findAndModify");
        }
    }

    @Test
    void unlockIsOneUpdate() {
        try (Dlm dlm = dlm(locks, "a")) {
            Mutex mutex = dlm.newMutex(newKey("unlock"));
            prepareDocument(mutex);
            assertThat(mutex.tryLock()).isPresent();

            recorder.clear();
            mutex.unlock();
            List<String> commands = recorder.lockCommandNames();

            assertThat(commands).containsExactly("update");
            assertThat(mutex.holder()).isEmpty();
        }
    }

    /** A findAndModify rather than an update: its reply carries the expiry, which may be later than the ttl asked for. */
    @Test
    void refreshIsOneFindAndModify() {
        try (Dlm dlm = dlm(locks, "a")) {
            Mutex mutex = dlm.newMutex(newKey("refresh"));
            prepareDocument(mutex);
            Lease lease = mutex.tryLock().orElseThrow();

            recorder.clear();
            boolean refreshed = lease.refresh();
            List<String> commands = recorder.lockCommandNames();

            assertThat(refreshed).isTrue();
            assertThat(commands).containsExactly("findAndModify");
            lease.close();
        }
    }

    @Test
    void holderIsOneFind() {
        try (Dlm dlm = dlm(locks, "a")) {
            Mutex mutex = dlm.newMutex(newKey("holder"));
            prepareDocument(mutex);
            assertThat(mutex.tryLock()).isPresent();

            recorder.clear();
            assertThat(mutex.holder()).isPresent();
            assertThat(recorder.lockCommandNames()).containsExactly("find");
            mutex.unlock();
        }
    }

    @Test
    void aFailedTryLockIsAFailedFindAndModifyThenAFind() {
        try (Dlm a = dlm(locks, "a"); Dlm b = dlm(locks, "b")) {
            String key = newKey("busy");
            prepareDocument(a.newMutex(key));
            Lease held = a.newMutex(key).tryLock().orElseThrow();

            recorder.clear();
            Optional<Lease> attempt = b.newMutex(key).tryLock();
            List<String> commands = recorder.lockCommandNames();
            List<CommandRecorder.Failure> failures = recorder.failures();

            assertThat(attempt).isEmpty();
            assertThat(commands).containsExactly("findAndModify", "find");
            assertThat(failures).singleElement().satisfies(failure -> {
                assertThat(failure.name()).isEqualTo("findAndModify");
                assertThat(failure.error()).isInstanceOfSatisfying(MongoCommandException.class,
                        e -> assertThat(e.getErrorCode()).as("duplicate key").isEqualTo(11000));
            });
            held.close();
        }
    }

    @Test
    void theFirstHoldOnANewKeyIsThreeFindAndModifies() {
        try (Dlm dlm = dlm(locks, "a")) {
            String key = newKey("new");
            Mutex mutex = dlm.newMutex(key);

            recorder.clear();
            Optional<Lease> lease = mutex.tryLock();
            List<CommandRecorder.Command> commands = recorder.lockCommands();

            assertThat(lease).isPresent();
            assertThat(commands).extracting(CommandRecorder.Command::name)
                    .containsExactly("findAndModify", "findAndModify", "findAndModify");
            // the upsert of the lock document, the epoch counter, the stamp of the token
            assertThat(commands.get(0).filteredId()).isEqualTo(new BsonString(key));
            assertThat(commands.get(0).body().getBoolean("upsert", BsonBoolean.FALSE).getValue()).isTrue();
            assertThat(commands.get(1).filteredId()).isEqualTo(new BsonDocument("fenceOf", new BsonString(key)));
            assertThat(commands.get(2).filteredId()).isEqualTo(new BsonString(key));
            lease.get().close();
        }
    }

    @Test
    void lockWritesUseMajorityJournaledWriteConcernByDefault() {
        try (Dlm a = dlm(locks, "a"); Dlm b = dlm(locks, "b")) {
            String key = newKey("wc");
            recorder.clear();
            Mutex mutex = a.newMutex(key);
            Lease lease = mutex.tryLock().orElseThrow();   // upsert, epoch, stamp
            assertThat(lease.refresh()).isTrue();          // update
            assertThat(b.newMutex(key).tryLock()).isEmpty(); // failed findAndModify
            mutex.unlock();                                // update
            assertThat(mutex.tryLock()).isPresent();       // findAndModify takeover
            mutex.unlock();

            List<CommandRecorder.Command> writes = recorder.lockCommands().stream()
                    .filter(c -> WRITES.contains(c.name())).toList();
            assertThat(writes).hasSizeGreaterThanOrEqualTo(8);
            BsonDocument majorityJournaled = new BsonDocument("w", new BsonString("majority"))
                    .append("j", BsonBoolean.TRUE);
            assertThat(writes).allSatisfy(write -> assertThat(write.body().getDocument("writeConcern", null))
                    .as("write concern of %s", write.body().toJson())
                    .isEqualTo(majorityJournaled));
        }
    }

    @Test
    void aWriteConcernOfTheUsersCollectionIsKept() {
        MongoCollection<Document> w1 = locks.withWriteConcern(WriteConcern.W1);
        try (Dlm a = dlm(w1, "a")) {
            String key = newKey("w1");
            recorder.clear();
            Mutex mutex = a.newMutex(key);
            Lease lease = mutex.tryLock().orElseThrow();
            assertThat(lease.refresh()).isTrue();
            mutex.unlock();
            assertThat(mutex.tryLock()).isPresent();
            mutex.unlock();

            List<CommandRecorder.Command> writes = recorder.lockCommands().stream()
                    .filter(c -> WRITES.contains(c.name())).toList();
            assertThat(writes).hasSizeGreaterThanOrEqualTo(6);
            assertThat(writes).allSatisfy(write -> {
                BsonDocument writeConcern = write.body().getDocument("writeConcern", null);
                assertThat(writeConcern).as("write concern of %s", write.body().toJson()).isNotNull();
                BsonValue w = writeConcern.get("w");
                assertThat(w).isEqualTo(new BsonInt32(1));
                assertThat(writeConcern.containsKey("j")).as("j in %s", writeConcern.toJson()).isFalse();
            });
        }
    }
}
