package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Deque;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's clock is a bound, not a midpoint (issue 12 item 5): expiries are written at the
 * latest the server's time can be plus the ttl rounded up, and taken over only once they are
 * before the earliest it can be. Deterministic through a {@link ServerClock} whose probe replies
 * and round trips are scripted, against the in-process server's documents.
 */
@WithEmbeddedMongo
class MongoClockBoundTest {

    private static final Duration HALF_ROUND_TRIP = Duration.ofMillis(50);

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("dlm4j_test").getCollection("clock_bound_locks");
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
    }

    /**
     * A monotonic clock that moves only when told, and a probe that answers with scripted server
     * times after a round trip of 100 ms: right after {@code reading(s)}, the midpoint estimate is
     * s + 50 ms, give or take 50 ms.
     */
    static final class ScriptedClock {
        final AtomicLong nanos = new AtomicLong(1_000_000_000L);
        final Deque<Long> serverMillis = new ArrayDeque<>();
        final ServerClock clock = new ServerClock(() -> {
            // the reply takes a whole round trip; the server read its clock somewhere inside it
            nanos.addAndGet(HALF_ROUND_TRIP.multipliedBy(2).toNanos());
            return new Date(serverMillis.removeFirst());
        }, nanos::get);

        ScriptedClock reading(long millis) {
            serverMillis.add(millis);
            clock.measure();
            return this;
        }

        void advance(Duration duration) {
            nanos.addAndGet(duration.toNanos());
        }
    }

    private static MongoLockStore store(ScriptedClock scripted) {
        // prepare() reads the clock three times when it has no reading: the scripted one has one
        return new MongoLockStore(locks, Duration.ofSeconds(10), null, null, scripted.clock);
    }

    private static String newKey() {
        return "bound-" + UUID.randomUUID();
    }

    @Test
    void boundsSpanHalfTheRoundTripAndTheTruncatedMillisecond() {
        ScriptedClock scripted = new ScriptedClock().reading(1_000_000);
        ServerClock.Bounds bounds = scripted.clock.bounds();
        assertThat(scripted.clock.now().getTime()).as("midpoint").isEqualTo(1_000_050);
        // 50 ms each way, plus 5 us of drift (100 ppm of 50 ms) rounded outwards, plus the truncated millisecond
        assertThat(bounds.earliestMillis()).isEqualTo(1_000_050 - 51);
        assertThat(bounds.latestMillis()).isEqualTo(1_000_050 + 51 + 1);

        scripted.advance(Duration.ofSeconds(10));
        ServerClock.Bounds later = scripted.clock.bounds();
        // 10.05 s since the midpoint at 100 ppm: 1.005 ms more each way
        assertThat(scripted.clock.now().getTime()).as("midpoint").isEqualTo(1_010_050);
        assertThat(later.earliestMillis()).isEqualTo(1_010_050 - 52);
        assertThat(later.latestMillis()).isEqualTo(1_010_050 + 52 + 1);
        assertThat(later.expiryAfter(Duration.ofNanos(1_000_400_000))).as("expiry of a 1000.4 ms ttl")
                .isEqualTo(new Date(1_010_103 + 1001));
        assertThat(later.expiryAfter(Duration.ofSeconds(1))).as("expiry of a 1 s ttl").isEqualTo(new Date(1_010_103 + 1000));
        assertThat(later.surelyLeft(new Date(1_010_103 + 1000))).isEqualTo(Duration.ofSeconds(1));
        assertThat(later.untilFree(new Date(1_010_103 + 1000))).isEqualTo(Duration.ofMillis(52 + 1 + 52 + 1000 + 1));
    }

    @Test
    void expiryIsWrittenAtTheLatestServerTimePlusTheTtlRoundedUp() {
        long serverNow = System.currentTimeMillis();
        ScriptedClock scripted = new ScriptedClock().reading(serverNow);
        String key = newKey();
        Duration ttl = Duration.ofNanos(1_000_400_000);

        Acquisition acquired = store(scripted).acquire(key, "owner-a", ttl, "attempt-1");

        long expiry = locks.find(eq("_id", key)).first().getDate("expiry").getTime();
        assertThat(expiry).as("expiry of a 1000.4 ms hold at server time %s +- 50 ms", serverNow + 50)
                .isGreaterThanOrEqualTo(serverNow + 50 + 50 + 1001);
        StoredHold hold = acquired.hold();
        assertThat(hold.remaining()).as("what the holder may count on: from the latest server time")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1001))
                .isLessThanOrEqualTo(Duration.ofMillis(expiry - (serverNow + 50 + 50)));
    }

    @Test
    void aHoldIsTakenOverOnlyOnceItsExpiryIsBeforeTheEarliestServerTime() {
        long serverNow = System.currentTimeMillis();
        String key = newKey();
        long expiry = serverNow + 40;
        locks.insertOne(new Document("_id", key).append("owner", "go-app").append("expiry", new Date(expiry)));
        // by the midpoint (serverNow + 50) the hold expired 10 ms ago; by the bound it may still be live
        ScriptedClock scripted = new ScriptedClock().reading(serverNow);
        MongoLockStore store = store(scripted);

        Acquisition early = store.acquire(key, "owner-b", Duration.ofSeconds(5), "attempt-1");
        assertThat(early.outcome()).as("a takeover 10 ms past the expiry by the midpoint, +- 50 ms")
                .isEqualTo(Acquisition.Outcome.HELD);
        assertThat(early.hold().remaining()).as("time until it may be taken over")
                .isGreaterThan(Duration.ZERO).isLessThanOrEqualTo(Duration.ofMillis(42));
        assertThat(store.read(key)).as("holder() while it may still be live").isPresent();

        scripted.advance(Duration.ofMillis(45));
        assertThat(store.acquire(key, "owner-b", Duration.ofSeconds(5), "attempt-2").outcome())
                .as("a takeover 55 ms past the expiry by the midpoint, +- 50 ms").isEqualTo(Acquisition.Outcome.ACQUIRED);
    }
}
