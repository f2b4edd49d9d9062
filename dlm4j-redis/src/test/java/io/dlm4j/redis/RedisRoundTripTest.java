package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.redis.RedisTestSupport.CommandStat;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static io.dlm4j.redis.RedisTestSupport.commandStats;
import static io.dlm4j.redis.RedisTestSupport.newKey;
import static io.dlm4j.redis.RedisTestSupport.resetStats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What each operation costs on the server and what it leaves there, read from Redis itself:
 * {@code INFO commandstats} after {@code CONFIG RESETSTAT}, {@code KEYS}, {@code PTTL} and
 * {@code CLUSTER KEYSLOT}.
 *
 * <p>Redis counts the commands a script runs (GET, SET, INCR, PEXPIRE, PTTL, DEL, PUBLISH) in
 * {@code commandstats} as well as the top-level EVALSHA; so the round trips are the EVALSHA (and
 * EVAL) calls, and every other command counted must be one a script runs.
 */
@WithRedis(own = true)
class RedisRoundTripTest {

    private static final int N = 50;

    /** Everything the scripts run, and the test's own CONFIG RESETSTAT and INFO. */
    private static final Set<String> SCRIPT_COMMANDS_AND_RESETSTAT = Set.of(
            "evalsha", "get", "set", "incr", "pexpire", "pttl", "del", "publish", "config|resetstat", "info");

    private static RedisServer server;
    private static RedisClient client;
    private static RedisClient inspectClient;
    private static StatefulRedisConnection<String, String> inspectConnection;
    private static RedisCommands<String, String> inspect;

    /** A server with cluster support and no slots, started by the first test that needs CLUSTER KEYSLOT. */
    private static RedisServer clusterNode;

    private static synchronized RedisServer clusterNode() {
        if (clusterNode == null) {
            clusterNode = RedisServer.start(RedisServer.Options.builder().extraArgs("--cluster-enabled", "yes").build());
        }
        return clusterNode;
    }

    @BeforeAll
    static void startServer(RedisServer shared) {
        server = shared;
        client = RedisClient.create(server.uri());
        inspectClient = RedisClient.create(server.uri());
        inspectConnection = inspectClient.connect();
        inspect = inspectConnection.sync();
    }

    @AfterAll
    static void stopServer() {
        if (inspectConnection != null) {
            inspectConnection.close();
        }
        if (inspectClient != null) {
            inspectClient.shutdown();
        }
        if (client != null) {
            client.shutdown();
        }
        if (clusterNode != null) {
            clusterNode.close();
        }
    }

    private static DlmOptions options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).operationTimeout(Duration.ofSeconds(5)).build();
    }

    private static Dlm dlm(String owner) {
        return RedisDlm.create(client, options(owner));
    }

    /** Connects the Dlm and has the server cache every script it runs, so that counts start clean. */
    private static void warmUp(Dlm dlm) {
        Mutex warm = dlm.newMutex(newKey("warm-up"));
        Lease lease = warm.tryLock().orElseThrow();
        assertThat(lease.refresh()).isTrue();
        assertThat(warm.holder()).isPresent();
        lease.close();
    }

    /** Fails if a command other than the scripts' own (e.g. PING, HELLO, CLIENT, SUBSCRIBE, EVAL) was counted. */
    private static void assertOnlyScriptCommands(Map<String, CommandStat> stats) {
        assertThat(stats.keySet()).as("commands counted since CONFIG RESETSTAT: %s", stats)
                .isSubsetOf(SCRIPT_COMMANDS_AND_RESETSTAT);
    }

    @Test
    void tryLockAndUnlockAreOneEvalshaEach() {
        try (Dlm dlm = dlm("a")) {
            warmUp(dlm);
            Mutex mutex = dlm.newMutex(newKey("cycles"));
            resetStats(server);

            for (int i = 0; i < N; i++) {
                Lease lease = mutex.tryLock().orElseThrow();
                if (i % 2 == 0) {
                    lease.close();
                } else {
                    mutex.unlock();
                }
            }

            Map<String, CommandStat> stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("evalsha for %d tryLock and %d unlock: %s", N, N, stats)
                    .isEqualTo(new CommandStat(2L * N, 0));
            assertThat(stats).as("no EVAL once the scripts are cached").doesNotContainKey("eval");
            assertOnlyScriptCommands(stats);
            // each new hold takes one fence value; each release deletes and publishes once
            assertThat(stats.get("incr").calls()).isEqualTo(N);
            assertThat(stats.get("publish").calls()).isEqualTo(N);
        }
    }

    @Test
    void refreshIsOneEvalshaAndSoIsRelockingByTheHolder() {
        try (Dlm dlm = dlm("a")) {
            warmUp(dlm);
            Mutex mutex = dlm.newMutex(newKey("refresh"));
            Lease lease = mutex.tryLock().orElseThrow();
            resetStats(server);

            for (int i = 0; i < N; i++) {
                assertThat(lease.refresh()).isTrue();
            }
            Map<String, CommandStat> stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("evalsha for %d refreshes: %s", N, stats)
                    .isEqualTo(new CommandStat(N, 0));
            assertOnlyScriptCommands(stats);
            assertThat(stats).as("a refresh takes no fence value").doesNotContainKey("incr");

            resetStats(server);
            for (int i = 0; i < N; i++) {
                assertThat(mutex.tryLock()).isPresent(); // the holder locking again extends its hold
            }
            stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("evalsha for %d re-locks by the holder: %s", N, stats)
                    .isEqualTo(new CommandStat(N, 0));
            assertOnlyScriptCommands(stats);
            assertThat(stats).as("re-locking takes no fence value").doesNotContainKey("incr");
            mutex.unlock();
        }
    }

    @Test
    void aFailedTryLockAndHolderAreOneEvalshaEach() {
        try (Dlm holderDlm = dlm("holder"); Dlm otherDlm = dlm("other")) {
            warmUp(otherDlm);
            String key = newKey("contended");
            Lease held = holderDlm.newMutex(key).tryLock().orElseThrow();
            Mutex other = otherDlm.newMutex(key);
            resetStats(server);

            for (int i = 0; i < N; i++) {
                assertThat(other.tryLock()).isEmpty();
                assertThat(other.holder()).hasValueSatisfying(info -> assertThat(info.owner()).isEqualTo("holder"));
            }
            Map<String, CommandStat> stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("evalsha for %d failed tryLock and %d holder(): %s", N, N, stats)
                    .isEqualTo(new CommandStat(2L * N, 0));
            assertOnlyScriptCommands(stats);
            assertThat(stats).as("a failed acquire neither takes a fence value nor writes")
                    .doesNotContainKeys("incr", "set", "pexpire", "del", "publish");
            held.close();
        }
    }

    @Test
    void anUncontendedLockIsOneEvalshaAndSubscribesToNothing() throws InterruptedException {
        try (Dlm dlm = dlm("a")) {
            warmUp(dlm);
            Mutex mutex = dlm.newMutex(newKey("uncontended"));
            resetStats(server);

            for (int i = 0; i < N; i++) {
                Lease lease = i % 2 == 0 ? mutex.lock() : mutex.lock(Duration.ofSeconds(5));
                lease.close();
            }
            Map<String, CommandStat> stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("evalsha for %d lock() and %d release: %s", N, N, stats)
                    .isEqualTo(new CommandStat(2L * N, 0));
            assertOnlyScriptCommands(stats);
            assertThat(stats).as("no pub/sub for a lock that is free").doesNotContainKeys("subscribe", "unsubscribe");
        }
    }

    @Test
    void afterScriptFlushEachScriptCostsOneFailedEvalshaAndOneEvalThenEvalshaAgain() {
        try (Dlm dlm = dlm("a")) {
            warmUp(dlm);
            Mutex mutex = dlm.newMutex(newKey("noscript"));
            assertThat(server.command("SCRIPT", "FLUSH")).isEqualTo("+OK");
            resetStats(server);

            Lease first = mutex.tryLock().orElseThrow();
            Map<String, CommandStat> stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("acquire after SCRIPT FLUSH: %s", stats)
                    .isEqualTo(new CommandStat(1, 1));
            assertThat(stats.get("eval")).as("acquire after SCRIPT FLUSH: %s", stats)
                    .isEqualTo(new CommandStat(1, 0));
            assertThat(first.fencingToken()).isPositive();
            assertThat(mutex.holder()).hasValueSatisfying(info -> assertThat(info.owner()).isEqualTo("a"));

            first.close(); // the release script was flushed too
            stats = commandStats(server);
            // holder() above used the read script: flushed as well
            assertThat(stats.get("evalsha")).as("after holder() and release: %s", stats)
                    .isEqualTo(new CommandStat(3, 3));
            assertThat(stats.get("eval")).isEqualTo(new CommandStat(3, 0));
            assertThat(mutex.holder()).isEmpty();

            resetStats(server);
            Lease second = mutex.tryLock().orElseThrow();
            assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
            second.close();
            stats = commandStats(server);
            assertThat(stats.get("evalsha")).as("once cached again: %s", stats).isEqualTo(new CommandStat(2, 0));
            assertThat(stats).doesNotContainKey("eval");
        }
    }

    @Test
    void afterUnlockOnlyOneFenceCounterPerKeyIsLeftAndItNeverExpires() {
        String tag = UUID.randomUUID().toString();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            keys.add("left-" + i + "-" + tag);
        }
        try (Dlm dlm = dlm("a")) {
            List<Lease> leases = new ArrayList<>();
            for (String key : keys) {
                leases.add(dlm.newMutex(key).tryLock().orElseThrow());
            }
            Set<String> whileHeld = new TreeSet<>(inspect.keys("*" + tag + "*"));
            Set<String> expectedHeld = new TreeSet<>();
            for (String key : keys) {
                expectedHeld.add("dlm4j:{" + key + "}");
                expectedHeld.add("dlm4j:{" + key + "}:fence");
            }
            assertThat(whileHeld).as("keys while held").isEqualTo(expectedHeld);

            leases.forEach(Lease::close);

            Set<String> expectedLeft = new TreeSet<>();
            for (String key : keys) {
                expectedLeft.add("dlm4j:{" + key + "}:fence");
            }
            assertThat(new TreeSet<>(inspect.keys("*" + tag + "*"))).as("keys after unlock").isEqualTo(expectedLeft);
            for (String fence : expectedLeft) {
                assertThat(inspect.pttl(fence)).as("PTTL of %s (-1: no expiry)", fence).isEqualTo(-1L);
                assertThat(inspect.get(fence)).as("fence counter %s after one hold", fence).isEqualTo("1");
            }
        }
    }

    @Test
    void anExpiredHoldLeavesOnlyItsFenceCounter() {
        String key = newKey("expired");
        try (Dlm dlm = dlm("a")) {
            dlm.newMutex(key, Duration.ofMillis(300)).tryLock().orElseThrow();
            assertThat(inspect.exists("dlm4j:{" + key + "}")).isEqualTo(1L);
            // Redis expires the key by its own clock: no client has to delete it
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> inspect.exists("dlm4j:{" + key + "}") == 0L);
            assertThat(inspect.keys("*" + key + "*")).containsExactly("dlm4j:{" + key + "}:fence");
        }
    }

    @Test
    void whileHeldTheLockKeyExpiresInTheTtlByRedisClockAndHoldsTokenAndOwner() {
        String key = newKey("pttl");
        Duration ttl = Duration.ofSeconds(20);
        try (Dlm dlm = dlm("pod-7")) {
            Lease lease = dlm.newMutex(key, ttl).tryLock().orElseThrow();
            String lockKey = "dlm4j:{" + key + "}";
            assertThat(inspect.pttl(lockKey)).as("PTTL right after acquire")
                    .isBetween(ttl.toMillis() - 2_000, ttl.toMillis());
            HoldValue held = HoldValue.parse(inspect.get(lockKey));
            assertThat(held.token()).isEqualTo(lease.fencingToken());
            assertThat(held.owner()).isEqualTo("pod-7");
            assertThat(held.attempt()).as("the mark of the acquire that made the hold").isNotNull();
            assertThat(inspect.get(lockKey + ":fence")).isEqualTo(Long.toString(lease.fencingToken()));

            inspect.pexpire(lockKey, 5_000); // as if time had passed
            assertThat(lease.refresh()).isTrue();
            assertThat(inspect.pttl(lockKey)).as("PTTL after refresh")
                    .isBetween(ttl.toMillis() - 2_000, ttl.toMillis());
            assertThat(inspect.get(lockKey)).as("the value after the refresh, no longer marked")
                    .isEqualTo(lease.fencingToken() + ":pod-7");
            lease.close();
        }
    }

    /**
     * The lock key and its fence counter must hash to one Redis Cluster slot, so that one script
     * may touch both where a proxy or cluster checks slots. A non-cluster server refuses
     * CLUSTER KEYSLOT, so a second server with cluster support (and no slots) computes the slots of
     * the names the Dlm actually wrote on the first.
     */
    @ParameterizedTest(name = "key \"{0}\"")
    @ValueSource(strings = {"orders-42", "a{b}c", "x{y", "{}", "ключ", "}x"})
    void theLockKeyAndItsFenceCounterShareAHashSlot(String keyStart) {
        String key = keyStart + "-" + UUID.randomUUID();
        try (Dlm dlm = dlm("a")) {
            Lease lease = dlm.newMutex(key).tryLock().orElseThrow();
            // closing braces and backslashes in the key are escaped, so that the tag is the whole key
            String lockKey = "dlm4j:{" + RedisKeys.hashTagSafe(key) + "}";
            String fenceKey = lockKey + ":fence";
            String uuid = key.substring(key.length() - 36);
            assertThat(new TreeSet<>(inspect.keys("*" + uuid + "*"))).containsExactly(lockKey, fenceKey);

            String lockSlot = clusterNode().command("CLUSTER", "KEYSLOT", lockKey);
            String fenceSlot = clusterNode().command("CLUSTER", "KEYSLOT", fenceKey);
            assertThat(lockSlot).as("slot of %s", lockKey).startsWith(":");
            assertThat(fenceSlot).as("slot of %s (lock key %s is in %s)", fenceKey, lockKey, lockSlot)
                    .isEqualTo(lockSlot);
            lease.close();
        }
    }

    @Test
    void aKeyPrefixNamesTheKeysAndSeparatesTheLocks() {
        String key = newKey("prefixed");
        try (Dlm app1 = RedisDlm.create(client, options("a"), "app1:");
             Dlm app2 = RedisDlm.create(client, options("b"), "app2:");
             Dlm plain = dlm("c")) {
            Lease one = app1.newMutex(key).tryLock().orElseThrow();
            assertThat(new TreeSet<>(inspect.keys("*" + key + "*")))
                    .containsExactly("app1:{" + key + "}", "app1:{" + key + "}:fence");

            // the same name under other prefixes is another lock, with its own fence counter
            Lease two = app2.newMutex(key).tryLock().orElseThrow();
            Lease three = plain.newMutex(key).tryLock().orElseThrow();
            assertThat(one.fencingToken()).isEqualTo(1);
            assertThat(two.fencingToken()).isEqualTo(1);
            assertThat(three.fencingToken()).isEqualTo(1);
            assertThat(app1.newMutex(key).holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("a"));
            assertThat(app2.newMutex(key).holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("b"));

            // and owner b under app1 is still kept out by a
            assertThat(app1.newMutex(MutexOptions.builder(key).owner("b").build()).tryLock()).isEmpty();

            one.close();
            two.close();
            three.close();
            assertThat(new TreeSet<>(inspect.keys("*" + key + "*"))).containsExactly(
                    "app1:{" + key + "}:fence", "app2:{" + key + "}:fence", "dlm4j:{" + key + "}:fence");
        }
    }

    @Test
    void autoRefreshingThousandsOfLeasesCostsAtMostOneScriptPer100LeasesPerPeriod() {
        int leases = 2_000;
        Duration ttl = Duration.ofMillis(1500);
        Duration period = ttl.dividedBy(3);
        String prefix = newKey("many");
        try (Dlm dlm = RedisDlm.create(client, DlmOptions.builder().defaultOwner("a").autoRefresh(true)
                .operationTimeout(Duration.ofSeconds(5)).build())) {
            warmUp(dlm);
            List<Lease> held = new ArrayList<>();
            for (int i = 0; i < leases; i++) {
                held.add(dlm.newMutex(prefix + "-" + i, ttl).tryLock().orElseThrow());
            }
            resetStats(server);
            long start = System.nanoTime();
            await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
            Map<String, CommandStat> stats = commandStats(server);
            double periods = (System.nanoTime() - start) / (double) period.toNanos();
            long scripts = calls(stats, "evalsha") + calls(stats, "eval");

            assertThat(held).as("every lease still valid after %.1f refresh periods", periods).allMatch(Lease::isValid);
            assertThat(scripts).as("scripts for %d leases over %.1f periods", leases, periods)
                    .isPositive()
                    .isLessThanOrEqualTo((long) Math.ceil(leases / 100.0 * (periods + 1)));
            assertThat(calls(stats, "pexpire")).as("lease extensions inside the scripts: each lease several times")
                    .isGreaterThanOrEqualTo(2L * leases);
            held.forEach(Lease::close);
        }
    }

    private static long calls(Map<String, CommandStat> stats, String command) {
        CommandStat stat = stats.get(command);
        return stat == null ? 0 : stat.calls();
    }

    /**
     * A release wakes one of a Dlm's waiters on the key, not all of them: only one can win, and
     * each other one would spend a failed script. The waiters' own pauses are set long, so that
     * every try counted is one a notice caused.
     */
    @Test
    void aReleaseWakesOneOfTheDlmsWaitersSoAHandoffIsTwoScripts() throws Exception {
        String key = newKey("herd");
        int waiters = 4;
        DlmOptions patient = DlmOptions.builder().defaultOwner("waiter").waitingInterval(Duration.ofSeconds(30))
                .operationTimeout(Duration.ofSeconds(5)).build();
        try (Dlm holderDlm = dlm("holder"); Dlm waiterDlm = RedisDlm.create(client, patient)) {
            warmUp(holderDlm);
            warmUp(waiterDlm);
            Lease held = holderDlm.newMutex(key, Duration.ofSeconds(60)).tryLock().orElseThrow();
            resetStats(server);
            List<java.util.concurrent.CompletableFuture<Lease>> taken = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                Mutex mutex = waiterDlm.newMutex(MutexOptions.builder(key).owner("w" + i).ttl(Duration.ofSeconds(60)).build());
                taken.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return mutex.lock(Duration.ofSeconds(20));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            // each waiter tries, subscribes, tries again, then sleeps
            await().atMost(Duration.ofSeconds(10)).until(() -> calls(commandStats(server), "evalsha") == 2L * waiters);

            resetStats(server);
            held.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> taken.stream().filter(f -> f.isDone()).count() == 1);
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> taken.stream().filter(f -> f.isDone()).count() == 1);
            assertThat(calls(commandStats(server), "evalsha")).as("the release and one waiter's try").isEqualTo(2);

            // and the next release hands over to another waiter, again with one try
            Lease first = taken.stream().filter(f -> f.isDone()).findFirst().orElseThrow().join();
            resetStats(server);
            first.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> taken.stream().filter(f -> f.isDone()).count() == 2);
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> taken.stream().filter(f -> f.isDone()).count() == 2);
            assertThat(calls(commandStats(server), "evalsha")).as("the second handoff").isEqualTo(2);
        }
    }
}
