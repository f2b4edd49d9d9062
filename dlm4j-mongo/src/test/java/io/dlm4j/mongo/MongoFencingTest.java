package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fencing tokens keep rising when the lock document disappears, as it does when the
 * prune or an operator removes it; the tests delete the document by hand.
 */
@WithEmbeddedMongo
class MongoFencingTest {

    private static final String DB = "dlm4j_test";
    private static final String COLLECTION = "fencing_locks";

    private static EmbeddedMongoServer server;
    private static MongoClient operatorClient;
    private static MongoCollection<Document> operatorView;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        operatorClient = MongoClients.create(server.connectionString());
        operatorView = operatorClient.getDatabase(DB).getCollection(COLLECTION);
    }

    @AfterAll
    static void stopServer() {
        if (operatorClient != null) {
            operatorClient.close();
        }
    }

    private static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static MongoCollection<Document> locksOf(MongoClient client) {
        return client.getDatabase(DB).getCollection(COLLECTION);
    }

    private static Dlm dlm(MongoClient client, String owner) {
        return MongoDlm.create(locksOf(client), DlmOptions.builder().defaultOwner(owner).build());
    }

    private static void deleteLockDocument(String key) {
        assertThat(operatorView.deleteOne(eq("_id", key)).getDeletedCount())
                .as("lock document of %s deleted", key).isEqualTo(1);
    }

    @Test
    void tokenRisesAfterTheReleasedDocumentIsDeleted() throws Exception {
        String key = newKey("deleted");
        try (MongoClient client = MongoClients.create(server.connectionString()); Dlm dlm = dlm(client, "a")) {
            Mutex mutex = dlm.newMutex(key);
            long first = mutex.lock(Duration.ZERO).fencingToken();
            mutex.unlock();
            deleteLockDocument(key);

            long second = mutex.lock(Duration.ZERO).fencingToken();
            assertThat(second).isGreaterThan(first);
            mutex.unlock();
            deleteLockDocument(key);

            // another owner after a deletion too
            try (Dlm other = dlm(client, "b")) {
                long third = other.newMutex(key).lock(Duration.ZERO).fencingToken();
                assertThat(third).isGreaterThan(second);
                other.newMutex(key).unlock();
            }
        }
    }

    @Test
    void tokenRisesAfterAnExpiredHoldIsDeleted() throws Exception {
        String key = newKey("expired");
        try (MongoClient client = MongoClients.create(server.connectionString());
             Dlm a = dlm(client, "a");
             Dlm b = dlm(client, "b")) {
            Mutex shortLived = a.newMutex(key, Duration.ofMillis(300));
            long first = shortLived.lock(Duration.ZERO).fencingToken();   // never unlocked
            await().atMost(Duration.ofSeconds(10)).until(() -> shortLived.holder().isEmpty());
            deleteLockDocument(key);

            long second = b.newMutex(key).lock(Duration.ZERO).fencingToken();
            assertThat(second).isGreaterThan(first);

            // and the same owner again, after its own expired hold was deleted
            Mutex again = a.newMutex(key, Duration.ofMillis(300));
            b.newMutex(key).unlock();
            long third = again.lock(Duration.ZERO).fencingToken();
            assertThat(third).isGreaterThan(second);
            await().atMost(Duration.ofSeconds(10)).until(() -> again.holder().isEmpty());
            deleteLockDocument(key);
            long fourth = again.lock(Duration.ZERO).fencingToken();
            assertThat(fourth).isGreaterThan(third);
            again.unlock();
        }
    }

    @Test
    void tokensRiseAcrossTwoClientsAlternatingWithDeletions() throws Exception {
        String key = newKey("alternating");
        List<Long> tokens = new ArrayList<>();
        try (MongoClient clientA = MongoClients.create(server.connectionString());
             MongoClient clientB = MongoClients.create(server.connectionString());
             Dlm a = dlm(clientA, "a");
             Dlm b = dlm(clientB, "b")) {
            for (int round = 0; round < 36; round++) {
                Dlm dlm = round % 2 == 0 ? a : b;
                Mutex mutex = dlm.newMutex(key);
                Lease lease = mutex.lock(Duration.ofSeconds(5));
                tokens.add(lease.fencingToken());
                lease.close();
                // delete after most rounds; every third round keeps the document, for the one-command path
                if (round % 3 != 2) {
                    deleteLockDocument(key);
                }
            }
        }
        assertThat(tokens).hasSize(36).allSatisfy(token -> assertThat(token).isPositive());
        for (int i = 1; i < tokens.size(); i++) {
            assertThat(tokens.get(i)).as("token of round %d after %d", i, tokens.get(i - 1))
                    .isGreaterThan(tokens.get(i - 1));
        }
    }

    @Test
    void tokensKeepRisingAfterAClientRestart() throws Exception {
        String key = newKey("restart");
        long before;
        try (MongoClient client = MongoClients.create(server.connectionString()); Dlm dlm = dlm(client, "a")) {
            Mutex mutex = dlm.newMutex(key);
            mutex.lock(Duration.ZERO).close();
            before = mutex.lock(Duration.ZERO).fencingToken();
            // closed with the hold still in place: close() releases it
        }

        long afterRestart;
        try (MongoClient client = MongoClients.create(server.connectionString()); Dlm dlm = dlm(client, "a")) {
            Mutex mutex = dlm.newMutex(key);
            afterRestart = mutex.lock(Duration.ZERO).fencingToken();
            assertThat(afterRestart).isGreaterThan(before);
            mutex.unlock();
        }
        deleteLockDocument(key);

        try (MongoClient client = MongoClients.create(server.connectionString()); Dlm dlm = dlm(client, "a")) {
            long afterRestartAndDeletion = dlm.newMutex(key).lock(Duration.ZERO).fencingToken();
            assertThat(afterRestartAndDeletion).isGreaterThan(afterRestart);
        }
    }
}
