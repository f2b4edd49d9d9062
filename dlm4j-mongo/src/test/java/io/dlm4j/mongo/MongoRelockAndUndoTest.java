package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore.Undo;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Updates.combine;
import static com.mongodb.client.model.Updates.set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's own holds on the in-process server: a relock or refresh never shortens a hold
 * (issue 12 item 4), and {@code undoAcquire} ends only a hold its attempt created and nobody
 * touched since (the attempt mark).
 */
@WithEmbeddedMongo
class MongoRelockAndUndoTest {

    private static final Duration LONG = Duration.ofSeconds(60);
    private static final Duration SHORT = Duration.ofSeconds(1);
    private static final String OWNER = "owner-a";

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;
    private static MongoLockStore store;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("dlm4j_test").getCollection("relock_locks");
        store = new MongoLockStore(locks, Duration.ofSeconds(10), null, null);
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
    }

    private static String newKey() {
        return "key-" + UUID.randomUUID();
    }

    private static Date storedExpiry(String key) {
        return locks.find(eq("_id", key)).first().getDate("expiry");
    }

    private static StoredHold acquired(Acquisition acquisition) {
        assertThat(acquisition.outcome()).as("the caller's hold, not another owner's").isNotEqualTo(Acquisition.Outcome.HELD);
        return acquisition.hold();
    }

    @Test
    void aShorterRelockKeepsTheLongerExpiryAndReportsIt() {
        String key = newKey();
        StoredHold first = acquired(store.acquire(key, OWNER, LONG, "attempt-1"));
        Date longExpiry = storedExpiry(key);

        StoredHold relocked = acquired(store.acquire(key, OWNER, SHORT, "attempt-2"));

        assertThat(storedExpiry(key)).as("stored expiry after a 1 s relock of a 60 s hold").isEqualTo(longExpiry);
        assertThat(relocked.remaining()).as("what the relock reports: the 60 s the store has")
                .isGreaterThan(LONG.minusSeconds(5));
        assertThat(relocked.fencingToken()).isEqualTo(first.fencingToken());
    }

    @Test
    void aShorterRefreshKeepsTheLongerExpiryAndReportsIt() {
        String key = newKey();
        acquired(store.acquire(key, OWNER, LONG, "attempt-1"));
        Date longExpiry = storedExpiry(key);

        Optional<Duration> refreshed = store.refresh(key, OWNER, SHORT);

        assertThat(storedExpiry(key)).as("stored expiry after a 1 s refresh of a 60 s hold").isEqualTo(longExpiry);
        assertThat(refreshed).as("what the refresh reports").get(org.assertj.core.api.InstanceOfAssertFactories.DURATION)
                .isGreaterThan(LONG.minusSeconds(5));
    }

    @Test
    void aShorterBatchRefreshKeepsTheLongerExpiries() {
        String longHeld = newKey();
        String shortHeld = newKey();
        acquired(store.acquire(longHeld, OWNER, LONG, "attempt-1"));
        acquired(store.acquire(shortHeld, OWNER, SHORT, "attempt-2"));
        Date longExpiry = storedExpiry(longHeld);
        Date shortExpiry = storedExpiry(shortHeld);

        List<Optional<Duration>> results = store.refreshAll(List.of(
                new HoldToRefresh(longHeld, OWNER, SHORT), new HoldToRefresh(shortHeld, OWNER, Duration.ofSeconds(20))));

        assertThat(storedExpiry(longHeld)).as("the 60 s hold after a 1 s batch refresh").isEqualTo(longExpiry);
        assertThat(storedExpiry(shortHeld)).as("the 1 s hold after a 20 s batch refresh").isAfter(shortExpiry);
        assertThat(results).allSatisfy(result -> assertThat(result).isPresent());
    }

    @Test
    void aBatchRefreshWithOneReleasedHoldReportsOnlyThatOneAsGone() {
        List<HoldToRefresh> holds = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String key = newKey();
            // every other hold lasts longer than the refresh asks for, and keeps its expiry
            acquired(store.acquire(key, OWNER, i % 2 == 0 ? LONG : Duration.ofSeconds(20), "attempt-" + i));
            holds.add(new HoldToRefresh(key, OWNER, Duration.ofSeconds(40)));
        }
        assertThat(store.release(holds.get(7).key(), OWNER)).isTrue();

        List<Optional<Duration>> results = store.refreshAll(holds);

        for (int i = 0; i < holds.size(); i++) {
            if (i == 7) {
                assertThat(results.get(i)).as("the released hold").isEmpty();
            } else {
                assertThat(results.get(i)).as("hold %d", i).get(org.assertj.core.api.InstanceOfAssertFactories.DURATION)
                        .isGreaterThan(i % 2 == 0 ? LONG.minusSeconds(5) : Duration.ofSeconds(35));
            }
        }
    }

    @Test
    void undoEndsTheHoldItsAttemptCreatedAndTheTokensGoOnRising() {
        String key = newKey();
        StoredHold created = acquired(store.acquire(key, OWNER, LONG, "attempt-1"));

        assertThat(store.undoAcquire(key, OWNER, "attempt-2")).as("undo by another attempt").isEqualTo(Undo.NOTHING_TO_UNDO);
        assertThat(store.read(key)).as("the hold after another attempt's undo").isPresent();
        assertThat(store.undoAcquire(key, OWNER, "attempt-1")).as("undo by the attempt that created it").isEqualTo(Undo.RELEASED);
        assertThat(store.read(key)).as("the hold after its attempt's undo").isEmpty();
        assertThat(store.undoAcquire(key, OWNER, "attempt-1")).as("a second undo").isEqualTo(Undo.NOTHING_TO_UNDO);

        StoredHold next = acquired(store.acquire(key, "owner-b", LONG, "attempt-3"));
        assertThat(next.fencingToken()).as("token after the undo").isGreaterThan(created.fencingToken());
    }

    @Test
    void undoLeavesAHoldTheOwnerRelockedOrRefreshedSince() {
        String relocked = newKey();
        acquired(store.acquire(relocked, OWNER, LONG, "attempt-1"));
        acquired(store.acquire(relocked, OWNER, SHORT, "attempt-2"));
        assertThat(store.undoAcquire(relocked, OWNER, "attempt-1")).as("undo after a relock").isEqualTo(Undo.NOTHING_TO_UNDO);
        assertThat(store.undoAcquire(relocked, OWNER, "attempt-2")).as("undo of the relock itself").isEqualTo(Undo.NOTHING_TO_UNDO);
        assertThat(store.read(relocked)).as("the relocked hold").isPresent();

        String refreshed = newKey();
        acquired(store.acquire(refreshed, OWNER, LONG, "attempt-1"));
        assertThat(store.refresh(refreshed, OWNER, LONG)).isPresent();
        assertThat(store.undoAcquire(refreshed, OWNER, "attempt-1")).as("undo after a refresh").isEqualTo(Undo.NOTHING_TO_UNDO);

        String batch = newKey();
        acquired(store.acquire(batch, OWNER, LONG, "attempt-1"));
        assertThat(store.refreshAll(List.of(new HoldToRefresh(batch, OWNER, LONG)))).containsExactly(Optional.of(LONG));
        assertThat(store.undoAcquire(batch, OWNER, "attempt-1")).as("undo after a batch refresh").isEqualTo(Undo.NOTHING_TO_UNDO);
        assertThat(store.read(batch)).isPresent();
    }

    @Test
    void undoLeavesAHoldTheGoPackageTookOverWithTheSameOwner() {
        String key = newKey();
        acquired(store.acquire(key, OWNER, LONG, "attempt-1"));
        // the Go package's takeover of an expired document: $set of _id, owner and expiry only, so
        // the dlm4j attempt mark stays on the document
        locks.updateOne(eq("_id", key), combine(set("owner", OWNER),
                set("expiry", new Date(System.currentTimeMillis() + 120_000))));

        assertThat(store.undoAcquire(key, OWNER, "attempt-1")).as("undo after a Go takeover").isEqualTo(Undo.NOTHING_TO_UNDO);
        assertThat(store.read(key)).as("the Go package's hold").isPresent();
    }
}
