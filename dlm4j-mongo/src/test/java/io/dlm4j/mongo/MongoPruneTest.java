package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Date;
import java.util.List;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The explicit prune that replaces the TTL index (issue 12 item 6): it deletes only lock
 * documents whose expiry is older than the server's time minus a grace, with that condition in
 * the delete itself, and never a live hold (also not one the Go package took over).
 */
@WithEmbeddedMongo
class MongoPruneTest {

    private static final long HOUR = Duration.ofHours(1).toMillis();

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static final CommandRecorder recorder = new CommandRecorder();
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(server.connectionString()))
                .addCommandListener(recorder)
                .build());
        locks = client.getDatabase("dlm4j_test").getCollection("prune_locks");
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
    }

    @BeforeEach
    void fillCollection() {
        locks.deleteMany(new Document());
        long now = System.currentTimeMillis();
        locks.insertMany(List.of(
                lock("released", "java-app", new Date(0)).append("fence", 4L).append("epoch", 1L),
                lock("expired-two-hours-ago", "go-app", new Date(now - 2 * HOUR)),
                lock("expired-a-minute-ago", "java-app", new Date(now - 60_000)).append("fence", 2L).append("epoch", 1L),
                // taken over by the Go package: it $set owner and expiry only, so dlm4j's fields stay
                lock("go-takeover", "go-app", new Date(now + 30_000)).append("fence", 9L).append("epoch", 3L),
                lock("live", "java-app", new Date(now + HOUR)).append("fence", 1L).append("epoch", 1L),
                new Document("_id", new Document(MongoLockStore.FENCE_COUNTER, "released")).append("epoch", 1L)));
        recorder.clear();
    }

    private static Document lock(String key, String owner, Date expiry) {
        return new Document("_id", key).append("owner", owner).append("expiry", expiry);
    }

    private static List<Object> remainingIds() {
        return locks.find().map(d -> d.get("_id")).into(new java.util.ArrayList<>());
    }

    @Test
    void pruneDeletesOnlyDocumentsExpiredLongerAgoThanTheGrace() {
        MongoLockStore store = new MongoLockStore(locks, Duration.ofSeconds(10), null, null);
        store.clock().measure();

        assertThat(store.prune(Duration.ofHours(1))).as("documents pruned").isEqualTo(2);

        assertThat(remainingIds()).containsExactlyInAnyOrder("expired-a-minute-ago", "go-takeover", "live",
                new Document(MongoLockStore.FENCE_COUNTER, "released"), ServerClock.PROBE_ID);
        assertThat(store.prune(Duration.ZERO)).as("documents pruned with no grace").isEqualTo(1);
        assertThat(remainingIds()).containsExactlyInAnyOrder("go-takeover", "live",
                new Document(MongoLockStore.FENCE_COUNTER, "released"), ServerClock.PROBE_ID);
    }

    @Test
    void theConditionIsTheDeletesOwnFilter() {
        MongoLockStore store = new MongoLockStore(locks, Duration.ofSeconds(10), null, null);
        store.clock().measure();
        recorder.clear();
        long before = store.clock().bounds().earliestMillis();

        store.prune(Duration.ofMinutes(5));

        List<CommandRecorder.Command> deletes = recorder.all().stream().filter(c -> c.name().equals("delete")).toList();
        assertThat(deletes).hasSize(1);
        BsonDocument statement = deletes.get(0).body().getArray("deletes").get(0).asDocument();
        assertThat(statement.getInt32("limit").getValue()).as("limit 0: every match").isZero();
        BsonDocument filter = statement.getDocument("q");
        assertThat(filter.keySet()).containsExactly("expiry");
        long threshold = filter.getDocument("expiry").getDateTime("$lt").getValue();
        assertThat(threshold).as("the threshold: server time less 5 minutes")
                .isBetween(before - Duration.ofMinutes(5).toMillis(), System.currentTimeMillis() - Duration.ofMinutes(5).toMillis());
    }

    @Test
    void theDlmsHousekeepingPrunesEveryTenMinutesWithAnHourOfGrace() {
        MongoLockStore store = new MongoLockStore(locks, Duration.ofSeconds(10), null, null);
        long start = System.nanoTime();
        try {
            store.housekeeping(start);
            assertThat(recorder.all()).as("housekeeping right after the store was made does not prune")
                    .noneMatch(c -> c.name().equals("delete"));

            store.housekeeping(start + Duration.ofMinutes(10).plusSeconds(1).toNanos());
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(locks.find(eq("_id", "released")).first()).as("the released document").isNull();
                assertThat(locks.find(eq("_id", "expired-two-hours-ago")).first()).isNull();
            });
            assertThat(remainingIds()).contains("expired-a-minute-ago", "go-takeover", "live");
            recorder.clear();
            store.housekeeping(start + Duration.ofMinutes(15).toNanos());
            assertThat(recorder.all()).as("a round within 10 minutes of the last prune does not prune")
                    .noneMatch(c -> c.name().equals("delete"));
        } finally {
            store.close();
        }
    }

    @Test
    void aNegativeGraceIsRefused() {
        try (MongoMaintenance maintenance = MongoMaintenance.of(locks, Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> maintenance.prune(Duration.ofSeconds(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("grace");
            assertThat(maintenance.prune(Duration.ofHours(1))).isEqualTo(2);
        }
        assertThat(locks.find(eq("_id", "live")).first()).isNotNull();
    }
}
