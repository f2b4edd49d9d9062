package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.WakeUpTiming;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.redis.RedisTestSupport.calls;
import static io.dlm4j.redis.RedisTestSupport.newKey;
import static io.dlm4j.redis.RedisTestSupport.resetStats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Waiters are woken by the PUBLISH in the release script, through one pub/sub connection per Dlm;
 * a waiter that gets no message still tries again at the holder's expiry, which the failed acquire
 * reported.
 *
 * <p>The waiting interval is 10 s throughout, so a waiter that acquires within 200 ms was woken by
 * the push, and one that acquires around the holder's expiry used the reported ttl.
 *
 * <p>The tests in this class read {@code INFO commandstats} (reset per test) to know when a waiter
 * has made its tries and waits: JUnit runs them one at a time on this class's own server.
 */
@WithRedis(own = true)
class RedisWakeUpTest {

    /** The requirement: a waiter acquires within this long of the holder's unlock. */
    private static final Duration PUSH_BOUND = Duration.ofMillis(200);
    private static final Duration WAITING_INTERVAL = Duration.ofSeconds(10);
    private static final Duration HOLDER_TTL = Duration.ofSeconds(30);

    private static RedisServer server;
    private static RedisClient client;
    private static RedisClient inspectClient;
    private static StatefulRedisConnection<String, String> inspectConnection;
    private static RedisCommands<String, String> inspect;
    private static ExecutorService threads;

    @BeforeAll
    static void startServer(RedisServer shared) {
        server = shared;
        client = RedisClient.create(server.uri());
        inspectClient = RedisClient.create(server.uri());
        inspectConnection = inspectClient.connect();
        inspect = inspectConnection.sync();
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (inspectConnection != null) {
            inspectConnection.close();
        }
        if (inspectClient != null) {
            inspectClient.shutdown();
        }
        if (client != null) {
            client.shutdown();
        }
    }

    private static DlmOptions options(String owner) {
        return DlmOptions.builder()
                .defaultOwner(owner)
                .defaultTtl(HOLDER_TTL)
                .waitingInterval(WAITING_INTERVAL)
                .operationTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static long numsub(String channel) {
        Map<String, Long> counts = inspect.pubsubNumsub(channel);
        return counts.getOrDefault(channel, 0L);
    }

    /** Waits until the waiters made {@code tries} acquire tries since the last reset: then each one waits. */
    private static void awaitTries(long tries) {
        await().atMost(Duration.ofSeconds(5)).until(() -> calls(server, "evalsha") >= tries);
    }

    /** A lock() on another thread; the future gives when it acquired. */
    private static Future<Long> lockInBackground(Mutex mutex) {
        return WakeUpTiming.lockInBackground(threads, mutex);
    }

    /** Holder unlocks while a waiter of another Dlm waits; returns how long after the unlock call began it acquired. */
    private static Duration pushLatency(Dlm holderDlm, Dlm waiterDlm, String prefix) throws Exception {
        String key = newKey("push");
        Lease held = holderDlm.newMutex(key).tryLock().orElseThrow();
        resetStats(server);
        Future<Long> waiter = lockInBackground(waiterDlm.newMutex(key));
        // a waiter tries, subscribes, tries again, then waits: two evalsha
        awaitTries(2);
        assertThat(numsub(prefix + "released:" + key)).as("subscriptions to the key's channel").isEqualTo(1);
        assertThat(waiter).as("the waiter waits while the lock is held").isNotDone();

        return WakeUpTiming.latencyOfUnlock(held, waiter, WAITING_INTERVAL.plusSeconds(5));
    }

    @Test
    void aWaiterOfAnotherDlmAcquiresWithin200msOfTheUnlock() throws Exception {
        try (Dlm holderDlm = RedisDlm.create(client, options("holder"));
             Dlm waiterDlm = RedisDlm.create(client, options("waiter"))) {
            List<Duration> latencies = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                latencies.add(pushLatency(holderDlm, waiterDlm, "dlm4j:"));
            }
            assertThat(latencies).as("from unlock to acquired, each round").allSatisfy(
                    latency -> assertThat(latency).isLessThan(PUSH_BOUND));
        }
    }

    @Test
    void aWaiterOfTheSameDlmAcquiresWithin200msOfTheUnlock() throws Exception {
        try (Dlm dlm = RedisDlm.create(client, options("holder"))) {
            List<Duration> latencies = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                String key = newKey("same-dlm");
                Lease held = dlm.newMutex(key).tryLock().orElseThrow();
                resetStats(server);
                Future<Long> waiter = lockInBackground(dlm.newMutex(MutexOptions.builder(key).owner("waiter").build()));
                awaitTries(2);
                assertThat(waiter).isNotDone();
                latencies.add(WakeUpTiming.latencyOfUnlock(held, waiter, Duration.ofSeconds(15)));
            }
            assertThat(latencies).as("from unlock to acquired, each round").allSatisfy(
                    latency -> assertThat(latency).isLessThan(PUSH_BOUND));
        }
    }

    @Test
    void aWaiterUnderAKeyPrefixListensOnlyOnThatPrefixsChannel() throws Exception {
        String key = newKey("prefixed");
        try (Dlm app1Holder = RedisDlm.create(client, options("holder"), "app1:");
             Dlm app1Waiter = RedisDlm.create(client, options("waiter"), "app1:");
             Dlm app2 = RedisDlm.create(client, options("holder"), "app2:")) {
            Lease held = app1Holder.newMutex(key).tryLock().orElseThrow();
            Lease heldElsewhere = app2.newMutex(key).tryLock().orElseThrow();
            resetStats(server);
            Future<Long> waiter = lockInBackground(app1Waiter.newMutex(key));
            awaitTries(2);
            assertThat(numsub("app1:released:" + key)).isEqualTo(1);
            assertThat(numsub("dlm4j:released:" + key)).isZero();

            // the same name under another prefix is another lock: its release wakes nobody here
            heldElsewhere.close();
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .until(() -> calls(server, "evalsha") == 3); // app2's release only
            assertThat(waiter).isNotDone();

            Duration latency = WakeUpTiming.latencyOfUnlock(held, waiter, Duration.ofSeconds(15));
            assertThat(latency).isLessThan(PUSH_BOUND);
        }
    }

    @Test
    void aDlmUsesOnePubSubConnectionForAllItsWaitersAndDropsTheChannelsAfterwards() throws Exception {
        String base = newKey("shared");
        List<String> keys = List.of(base + "-a", base + "-b", base + "-c");
        String clientName = "waiters-" + base.substring(base.length() - 8);
        RedisClient namedClient = RedisClient.create(RedisURI.builder(RedisURI.create(server.uri()))
                .withClientName(clientName).build());
        try (Dlm holderDlm = RedisDlm.create(client, options("holder"));
             Dlm waiterDlm = RedisDlm.create(namedClient, options("unused"))) {
            List<Lease> held = new ArrayList<>();
            for (String key : keys) {
                held.add(holderDlm.newMutex(key).tryLock().orElseThrow());
            }
            resetStats(server);
            // 5 waiters, each its own owner, on 3 keys: 2 + 2 + 1
            List<Future<Long>> waiters = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Mutex mutex = waiterDlm.newMutex(MutexOptions.builder(keys.get(i % 3)).owner("waiter-" + i).build());
                waiters.add(lockInBackground(mutex));
            }
            awaitTries(10);

            for (String key : keys) {
                assertThat(numsub("dlm4j:released:" + key)).as("subscriptions to %s", key).isEqualTo(1);
            }
            List<Map<String, String>> connections = clientList(clientName);
            assertThat(connections).as("connections of the waiting Dlm: one for commands, one for pub/sub")
                    .hasSize(2);
            List<Map<String, String>> subscribed = connections.stream()
                    .filter(c -> Integer.parseInt(c.get("sub")) > 0).toList();
            assertThat(subscribed).as("connections of the waiting Dlm with subscriptions: %s", connections)
                    .hasSize(1);
            assertThat(subscribed.get(0).get("sub")).isEqualTo("3");

            held.forEach(Lease::close);
            for (Future<Long> waiter : waiters) {
                waiter.get(15, TimeUnit.SECONDS);
            }

            // the last waiter of a channel unsubscribes it
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(inspect.pubsubChannels("dlm4j:released:" + base + "*")).isEmpty();
                assertThat(clientList(clientName)).allSatisfy(c -> assertThat(c.get("sub")).isEqualTo("0"));
            });
        } finally {
            namedClient.shutdown();
        }
    }

    /**
     * A waiter that is never told of the end of the hold (here the holder lets it expire, which
     * publishes nothing) tries again at the expiry the failed acquire reported, not after the
     * 10 s waiting interval.
     */
    @Test
    void withoutAMessageTheWaiterAcquiresAtTheHoldersExpiry() throws Exception {
        String key = newKey("expiry");
        Duration ttl = Duration.ofMillis(700);
        try (Dlm holderDlm = RedisDlm.create(client, options("holder"));
             Dlm waiterDlm = RedisDlm.create(client, options("waiter"))) {
            long start = System.nanoTime();
            holderDlm.newMutex(key, ttl).tryLock().orElseThrow();
            Future<Long> waiter = lockInBackground(waiterDlm.newMutex(key));
            Duration acquiredAfter = Duration.ofNanos(waiter.get(15, TimeUnit.SECONDS) - start);

            assertThat(acquiredAfter).as("time from the holder's acquire to the waiter's")
                    .isGreaterThanOrEqualTo(ttl.minusMillis(50))   // not before the hold ended
                    .isLessThan(ttl.plusMillis(500));
        }
    }

    /** CLIENT LIST lines of the connections named {@code name}, as field maps. */
    private static List<Map<String, String>> clientList(String name) {
        List<Map<String, String>> result = new ArrayList<>();
        for (String line : inspect.clientList().split("\n")) {
            Map<String, String> fields = new java.util.HashMap<>();
            for (String field : line.trim().split(" ")) {
                int eq = field.indexOf('=');
                if (eq > 0) {
                    fields.put(field.substring(0, eq), field.substring(eq + 1));
                }
            }
            if (name.equals(fields.get("name"))) {
                result.add(fields);
            }
        }
        return result;
    }
}
