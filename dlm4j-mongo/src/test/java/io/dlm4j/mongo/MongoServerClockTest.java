package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import io.netty.channel.Channel;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Expiry is judged by the MongoDB server's clock ({@link ServerClock}), neither by
 * {@link DlmOptions#clock()} nor by this machine's wall clock. The embedded server shares this
 * JVM's clock; one test runs a server whose clock is an hour ahead.
 */
@WithEmbeddedMongo
class MongoServerClockTest {

    private static final Duration HOUR = Duration.ofHours(1);
    private static final long SLACK_MILLIS = 3_000;

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("dlm4j_test").getCollection("clock_locks");
        // open the connection now, so that no probe's round trip includes the connection handshake
        locks.countDocuments();
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

    private static Dlm dlm(MongoCollection<Document> collection, String owner, Clock clock) {
        return MongoDlm.create(collection, DlmOptions.builder().defaultOwner(owner).clock(clock).build());
    }

    private static long storedExpiry(MongoCollection<Document> collection, String key) {
        Document document = collection.find(eq("_id", key)).first();
        assertThat(document).as("lock document of %s", key).isNotNull();
        return document.getDate("expiry").getTime();
    }

    private static void assertNear(long actualMillis, long expectedMillis, String what) {
        assertThat(actualMillis).as("%s: %s, expected about %s", what, Instant.ofEpochMilli(actualMillis),
                        Instant.ofEpochMilli(expectedMillis))
                .isBetween(expectedMillis - SLACK_MILLIS, expectedMillis + SLACK_MILLIS);
    }

    @Test
    void aClientClockAheadDoesNotTakeALiveHold() {
        String key = newKey("ahead");
        Clock ahead = Clock.offset(Clock.systemUTC(), HOUR);
        try (Dlm holderDlm = dlm(locks, "holder", Clock.systemUTC()); Dlm aheadDlm = dlm(locks, "ahead", ahead)) {
            Lease held = holderDlm.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();

            Mutex mutex = aheadDlm.newMutex(key, Duration.ofSeconds(20));
            assertThat(mutex.tryLock()).as("an hour-ahead client sees a hold with 30 s left").isEmpty();
            assertThat(mutex.holder()).map(LockInfo::owner).contains("holder");
            assertNear(storedExpiry(locks, key), System.currentTimeMillis() + 30_000, "holder's expiry");

            // its own holds are stamped with the server's time, not its clock's
            String own = newKey("ahead-own");
            long before = System.currentTimeMillis();
            Lease lease = aheadDlm.newMutex(own, Duration.ofSeconds(20)).tryLock().orElseThrow();
            assertNear(storedExpiry(locks, own), before + 20_000, "expiry written by the hour-ahead client");
            // and a live hold of its own stays live for others too
            assertThat(holderDlm.newMutex(own).tryLock()).isEmpty();
            lease.close();
            held.close();
        }
    }

    @Test
    void aClientClockBehindTakesOverAnExpiredHoldInTime() throws Exception {
        String key = newKey("behind");
        Clock behind = Clock.offset(Clock.systemUTC(), HOUR.negated());
        Duration ttl = Duration.ofSeconds(1);
        try (Dlm holderDlm = dlm(locks, "holder", Clock.systemUTC()); Dlm behindDlm = dlm(locks, "behind", behind)) {
            long start = System.nanoTime();
            holderDlm.newMutex(key, ttl).tryLock().orElseThrow();   // left to expire

            Lease lease = behindDlm.newMutex(key, Duration.ofSeconds(20)).lock(Duration.ofSeconds(10));
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;
            long taken = System.currentTimeMillis();

            assertThat(waitedMillis).as("took over within ttl + 1 s").isLessThan(ttl.toMillis() + 1_000);
            assertThat(lease.owner()).isEqualTo("behind");
            assertNear(storedExpiry(locks, key), taken + 20_000, "expiry written by the hour-behind client");
            assertThat(holderDlm.newMutex(key).tryLock()).as("the hour-behind client's hold is live").isEmpty();
            lease.close();
        }
    }

    @Test
    void serverClockMatchesTheEmbeddedServersTime() {
        ServerClock clock = new ServerClock(locks);
        assertThat(clock.isMeasured()).isFalse();
        assertThat(clock.uncertainty()).isNull();

        clock.measure();
        assertThat(clock.isMeasured()).isTrue();
        long local = System.currentTimeMillis();
        long server = clock.now().getTime();
        assertThat(server).isBetween(local - 50, local + 50);
        assertThat(clock.uncertainty()).isPositive().isLessThan(Duration.ofMillis(50));

        for (int i = 0; i < 5; i++) {
            clock.measure();
        }
        assertThat(clock.uncertainty()).isLessThan(Duration.ofMillis(50));
        long localAgain = System.currentTimeMillis();
        assertThat(clock.now().getTime()).isBetween(localAgain - 50, localAgain + 50);
    }

    @Test
    void serverClockMeasuresOnFirstUse() {
        ServerClock clock = new ServerClock(locks);
        long local = System.currentTimeMillis();
        long server = clock.now().getTime();
        long localAfter = System.currentTimeMillis();
        // the first reading includes the connection's set-up: allow the time the call took, not a fixed bound
        assertThat(server).isBetween(local - 50, localAfter + 50);
        assertThat(clock.isMeasured()).isTrue();
        assertThat(clock.uncertainty()).isLessThan(Duration.ofMillis(50));
    }

    /** Issue 12 item 5 on the in-process server: the expiry is a bound, the midpoint plus the uncertainty at least. */
    @Test
    void expiryIsWrittenAtTheLatestServerTimePlusTheTtlRoundedUp() {
        MongoLockStore store = new MongoLockStore(locks, Duration.ofSeconds(10), null, null);
        store.prepare();
        String key = newKey("bound");
        Duration ttl = Duration.ofNanos(1_000_400_000);
        ServerClock.Bounds before = store.clock().bounds();
        assertThat(before.latestMillis() - store.clock().now().getTime())
                .as("latest minus midpoint: the uncertainty and the truncated millisecond").isPositive();

        Duration left = store.acquire(key, "java-app", ttl, "attempt-1").hold().remaining();
        ServerClock.Bounds after = store.clock().bounds();

        long expiry = storedExpiry(locks, key);
        assertThat(expiry).as("stored expiry: at least the latest server time before the call plus 1001 ms")
                .isGreaterThanOrEqualTo(before.latestMillis() + 1001);
        assertThat(left).as("time left reported to the holder: no more than the expiry less the latest time after the call")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1001))
                .isLessThanOrEqualTo(Duration.ofMillis(expiry - before.latestMillis()));
        assertThat(expiry - after.latestMillis()).isLessThanOrEqualTo(left.toMillis());
    }

    // --- a server whose clock is an hour ahead of this machine's -------------------------------

    /**
     * The memory backend reads the JVM's clock for {@code $currentDate}; this one answers it with
     * its own clock, as a mongod on a host whose clock is off would. Other commands are untouched.
     */
    static final class SkewedBackend extends MemoryBackend {
        private final Clock serverClock;

        SkewedBackend(Clock serverClock) {
            this.serverClock = serverClock;
        }

        @Override
        public de.bwaldvogel.mongo.bson.Document handleCommand(Channel channel, String databaseName, String command,
                                                               de.bwaldvogel.mongo.bson.Document query) {
            if (command.equalsIgnoreCase("findAndModify")
                    && query.get("update") instanceof de.bwaldvogel.mongo.bson.Document update
                    && update.get("$currentDate") instanceof de.bwaldvogel.mongo.bson.Document currentDate) {
                de.bwaldvogel.mongo.bson.Document set = new de.bwaldvogel.mongo.bson.Document();
                for (Map.Entry<String, Object> field : currentDate.entrySet()) {
                    set.put(field.getKey(), serverClock.instant());
                }
                de.bwaldvogel.mongo.bson.Document rewritten = update.clone();
                rewritten.remove("$currentDate");
                rewritten.put("$set", set);
                de.bwaldvogel.mongo.bson.Document rewrittenQuery = query.clone();
                rewrittenQuery.put("update", rewritten);
                return super.handleCommand(channel, databaseName, command, rewrittenQuery);
            }
            return super.handleCommand(channel, databaseName, command, query);
        }
    }

    /** A server clock that steps back between readings must not make this client's reading of it step back. */
    @Test
    void serverTimeNeverStepsBack() {
        java.util.concurrent.atomic.AtomicLong offsetMillis = new java.util.concurrent.atomic.AtomicLong();
        Clock stepping = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.now().plusMillis(offsetMillis.get());
            }
        };
        MongoServer steppingServer = new MongoServer(new SkewedBackend(stepping));
        InetSocketAddress address = steppingServer.bind();
        try (MongoClient steppingClient = MongoClients.create("mongodb://127.0.0.1:" + address.getPort())) {
            ServerClock clock = new ServerClock(steppingClient.getDatabase("dlm4j_test").getCollection("locks"));
            long previous = clock.now().getTime();
            for (int i = 0; i < 20; i++) {
                offsetMillis.addAndGet(-500); // each reading half a second behind the last
                clock.measure();
                long now = clock.now().getTime();
                assertThat(now).as("the server's time after reading %d", i).isGreaterThanOrEqualTo(previous);
                previous = now;
            }
        } finally {
            steppingServer.shutdownNow();
        }
    }

    @Test
    void expiryIsJudgedByTheServersClockNotThisMachines() {
        MongoServer skewed = new MongoServer(new SkewedBackend(Clock.offset(Clock.systemUTC(), HOUR)));
        InetSocketAddress address = skewed.bind();
        try (MongoClient skewedClient = MongoClients.create("mongodb://127.0.0.1:" + address.getPort())) {
            MongoCollection<Document> skewedLocks = skewedClient.getDatabase("dlm4j_test").getCollection("locks");

            ServerClock clock = new ServerClock(skewedLocks);
            long expectedServerNow = System.currentTimeMillis() + HOUR.toMillis();
            assertNear(clock.now().getTime(), expectedServerNow, "ServerClock of a server an hour ahead");

            String stale = newKey("stale");
            String live = newKey("live");
            String fresh = newKey("fresh");
            long local = System.currentTimeMillis();
            // live by this machine's clock, but expired half an hour ago by the server's
            skewedLocks.insertOne(new Document("_id", stale).append("owner", "go-app")
                    .append("expiry", new Date(local + HOUR.toMillis() / 2)));
            // live by the server's clock
            skewedLocks.insertOne(new Document("_id", live).append("owner", "go-app")
                    .append("expiry", new Date(local + HOUR.toMillis() + 60_000)));

            try (Dlm dlm = dlm(skewedLocks, "java-app", Clock.systemUTC())) {
                Optional<Lease> takenOver = dlm.newMutex(stale, Duration.ofSeconds(20)).tryLock();
                assertThat(takenOver).as("a hold expired by the server's clock is free").isPresent();
                assertNear(storedExpiry(skewedLocks, stale), System.currentTimeMillis() + HOUR.toMillis() + 20_000,
                        "expiry written on a server an hour ahead");

                Mutex blocked = dlm.newMutex(live);
                assertThat(blocked.tryLock()).as("a hold live by the server's clock is taken").isEmpty();
                assertThat(blocked.holder()).map(LockInfo::owner).contains("go-app");

                Lease own = dlm.newMutex(fresh, Duration.ofSeconds(20)).tryLock().orElseThrow();
                assertNear(storedExpiry(skewedLocks, fresh), System.currentTimeMillis() + HOUR.toMillis() + 20_000,
                        "expiry of a new hold on a server an hour ahead");
                assertThat(dlm.newMutex(fresh).holder()).isPresent();
                own.close();
                takenOver.get().close();
            }
        } finally {
            skewed.shutdownNow();
        }
    }
}
