package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fencing tokens of Redlock, where no single master is authoritative: strictly increasing across
 * owners and Dlms while minorities of persistent masters are killed (SIGKILL), restarted with their
 * data (append-only file) or hung (SIGSTOP) between and during acquisitions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedlockFencingTest {

    private List<RedisServer> servers = List.of();
    private List<RedisClient> clients = List.of();
    private final List<Dlm> dlms = new ArrayList<>();

    @AfterEach
    void stopServers() {
        for (RedisServer server : servers) {
            if (server.isRunning()) {
                server.resume();
            }
        }
        for (Dlm dlm : dlms) {
            try {
                dlm.close();
            } catch (RuntimeException e) {
                // a lease on dead masters cannot be released; the servers go next anyway
            }
        }
        clients.forEach(RedisClient::shutdown);
        servers.forEach(RedisServer::close);
    }

    private void startPersistentMasters(int n) {
        servers = IntStream.range(0, n)
                .mapToObj(i -> RedisServer.start(RedisServer.Options.builder().persistent(true).build()))
                .toList();
        clients = servers.stream().map(s -> RedisClient.create(s.uri())).toList();
    }

    private Dlm dlm(String owner) {
        Dlm dlm = RedlockDlm.create(clients, options(owner));
        dlms.add(dlm);
        dlm.ping(); // connected to every master, as a running application is
        return dlm;
    }

    private static DlmOptions options(String owner) {
        return DlmOptions.builder()
                .defaultOwner(owner)
                .waitingInterval(Duration.ofMillis(50))
                .operationTimeout(Duration.ofSeconds(2))
                .build();
    }

    /** Waits until {@code server} has at least {@code connections} client connections (besides this check's own). */
    private static void awaitConnections(RedisServer server, int connections) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20)).until(() -> server
                .command("CLIENT", "LIST").lines().filter(line -> !line.contains("cmd=client|list")).count()
                >= connections);
    }

    private static String key(String name) {
        return "redlock-fencing-" + name + "-" + UUID.randomUUID();
    }

    private static String fence(String key) {
        return RedisKeys.DEFAULT.fence(key);
    }

    /** A random minority of the masters: 1 or 2 of 5. */
    private static List<Integer> minority(Random random, int n) {
        List<Integer> all = new ArrayList<>(IntStream.range(0, n).boxed().toList());
        Collections.shuffle(all, random);
        return List.copyOf(all.subList(0, 1 + random.nextInt((n - 1) / 2)));
    }

    @Test
    void tokensStrictlyIncreaseWhileMinoritiesAreKilledRestartedAndHung() throws Exception {
        startPersistentMasters(5);
        String key = key("chaos");
        List<Mutex> mutexes = List.of(
                dlm("alice").newMutex(key, Duration.ofSeconds(1)),
                dlm("bob").newMutex(key, Duration.ofSeconds(1)),
                dlm("carol").newMutex(key, Duration.ofSeconds(1)));
        long seed = System.nanoTime();
        Random random = new Random(seed);
        List<String> history = new ArrayList<>();
        long last = 0;
        int acquisitions = 0;
        for (int round = 0; round < 10; round++) {
            // 1. with a minority killed: acquire, and release or let the hold expire
            List<Integer> down = minority(random, servers.size());
            down.forEach(i -> servers.get(i).kill());
            Mutex mutex = mutexes.get(acquisitions % mutexes.size());
            Lease lease = mutex.lock(Duration.ofSeconds(10));
            history.add(mutex.owner() + " with " + down + " killed: " + lease.fencingToken());
            assertThat(lease.fencingToken()).as("seed %d, history %s", seed, history).isGreaterThan(last);
            last = lease.fencingToken();
            acquisitions++;
            if (random.nextBoolean()) {
                lease.close();
            } // else the next owner waits for it to expire (1 s)

            // 2. those masters come back with their data; another owner acquires
            down.forEach(i -> servers.get(i).restart());
            down.forEach(i -> awaitConnections(servers.get(i), mutexes.size())); // the Dlms reconnected
            mutex = mutexes.get(acquisitions % mutexes.size());
            lease = mutex.lock(Duration.ofSeconds(10));
            history.add(mutex.owner() + " after restarting " + down + ": " + lease.fencingToken());
            assertThat(lease.fencingToken()).as("seed %d, history %s", seed, history).isGreaterThan(last);
            last = lease.fencingToken();
            acquisitions++;
            lease.close();

            // 3. with a minority hung during the acquisition
            List<Integer> hung = minority(random, servers.size());
            hung.forEach(i -> servers.get(i).pause());
            try {
                mutex = mutexes.get(acquisitions % mutexes.size());
                lease = mutex.lock(Duration.ofSeconds(10));
                history.add(mutex.owner() + " with " + hung + " hung: " + lease.fencingToken());
                assertThat(lease.fencingToken()).as("seed %d, history %s", seed, history).isGreaterThan(last);
                last = lease.fencingToken();
                acquisitions++;
                lease.close();
            } finally {
                hung.forEach(i -> servers.get(i).resume());
            }
        }
        assertThat(acquisitions).isGreaterThanOrEqualTo(30);
    }

    @Test
    void aRelockBySameOwnerKeepsItsToken() {
        startPersistentMasters(3);
        String key = key("relock");
        Dlm first = dlm("alice");
        Dlm second = dlm("alice"); // the same owner in another process
        Mutex mutex = first.newMutex(key, Duration.ofSeconds(10));
        Lease lease = mutex.tryLock().orElseThrow();
        long token = lease.fencingToken();

        assertThat(mutex.tryLock()).hasValueSatisfying(again -> assertThat(again.fencingToken()).isEqualTo(token));
        assertThat(second.newMutex(key, Duration.ofSeconds(10)).tryLock())
                .hasValueSatisfying(again -> assertThat(again.fencingToken()).isEqualTo(token));

        // a master restarted with its data still has the hold: still the same acquisition
        servers.get(0).kill();
        servers.get(0).restart();
        assertThat(mutex.tryLock()).hasValueSatisfying(again -> assertThat(again.fencingToken()).isEqualTo(token));
        // with a master down, the remaining majority still recognises the hold
        servers.get(1).kill();
        assertThat(mutex.tryLock()).hasValueSatisfying(again -> assertThat(again.fencingToken()).isEqualTo(token));
        servers.get(1).restart();

        mutex.unlock();
        Lease next = dlm("bob").newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
        assertThat(next.fencingToken()).isGreaterThan(token);
    }

    /**
     * Why a token is recorded on a majority before it is handed out: masters A, B, C. With C down,
     * five holds on {A, B} raise their counters to 5. C returns with counter 0, B goes down: the
     * hold on {A, C} gets max(6, 1) = 6. A goes down, B returns with 5: the hold on {B, C} gets
     * max(6, 2) = 6 if the 6 was not recorded on C, the same token twice. Recorded, it is 7.
     * Each step uses a new Dlm so that no request is left queued for a master that comes back.
     */
    @Test
    void aTokenRecordedOnAMajorityOutlivesTheMasterThatIssuedIt() {
        startPersistentMasters(3);
        RedisServer a = servers.get(0);
        RedisServer b = servers.get(1);
        RedisServer c = servers.get(2);
        String key = key("record");

        c.kill();
        long token = 0;
        try (Dlm alice = RedlockDlm.create(clients, options("alice"))) {
            for (int i = 0; i < 5; i++) {
                try (Lease lease = alice.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow()) {
                    assertThat(lease.fencingToken()).isGreaterThan(token);
                    token = lease.fencingToken();
                }
            }
        }
        assertThat(a.command("GET", fence(key))).isEqualTo(Long.toString(token));

        c.restart();
        b.kill();
        long onAandC;
        try (Dlm alice = RedlockDlm.create(clients, options("alice"));
             Lease lease = alice.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow()) {
            onAandC = lease.fencingToken();
            assertThat(onAandC).isGreaterThan(token);
            assertThat(c.command("GET", fence(key))).as("C's counter once the token is recorded")
                    .isEqualTo(Long.toString(onAandC));
        }

        a.kill();
        b.restart();
        try (Dlm bob = RedlockDlm.create(clients, options("bob"));
             Lease lease = bob.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow()) {
            assertThat(lease.fencingToken()).as("token on {B, C} after %d on {A, C}", onAandC)
                    .isGreaterThan(onAandC);
        }
    }
}
