package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Redlock on five real Redis masters with some of them killed (SIGKILL) or hung (SIGSTOP): a
 * minority of failures is survived, a majority never yields a grant, and a hung master costs an
 * acquisition no more than its per-node timeout. Each test has its own servers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedlockFaultTest {

    private static final int MASTERS = 5;
    /** nodeTimeout(operationTimeout) = 2 s / 10 = 200 ms for release and read. */
    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);

    private List<RedisServer> servers;
    private List<RedisClient> clients;
    private final List<Dlm> dlms = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void startServers() {
        servers = IntStream.range(0, MASTERS).mapToObj(i -> RedisServer.start()).toList();
        clients = servers.stream().map(s -> RedisClient.create(s.uri())).toList();
    }

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
                // a lease still held on dead masters cannot be released: nothing to do about it here
            }
        }
        clients.forEach(RedisClient::shutdown);
        servers.forEach(RedisServer::close);
    }

    private Dlm dlm(String owner) {
        Dlm dlm = RedlockDlm.create(clients, DlmOptions.builder()
                .defaultOwner(owner)
                .waitingInterval(Duration.ofMillis(50))
                .operationTimeout(OPERATION_TIMEOUT)
                .build());
        dlms.add(dlm);
        dlm.ping(); // connects to every master, as a running application would be
        return dlm;
    }

    private static String key(String name) {
        return "redlock-fault-" + name + "-" + UUID.randomUUID();
    }

    private static String stored(String key) {
        return RedisKeys.DEFAULT.lock(key);
    }

    private void kill(int... indexes) {
        for (int i : indexes) {
            servers.get(i).kill();
        }
    }

    private void restart(int... indexes) {
        for (int i : indexes) {
            servers.get(i).restart();
        }
    }

    @Test
    void twoOfFiveMastersKilled_everyOperationStillWorks() throws Exception {
        String key = key("two-killed");
        Dlm alice = dlm("alice");
        Dlm bob = dlm("bob");
        kill(0, 1);

        Mutex aliceMutex = alice.newMutex(key, Duration.ofSeconds(3));
        Mutex bobMutex = bob.newMutex(key, Duration.ofSeconds(3));

        Lease first = aliceMutex.tryLock().orElseThrow(() -> new AssertionError("3 of 5 masters must grant"));
        assertThat(first.isValid()).isTrue();
        assertThat(first.fencingToken()).isPositive();
        assertThat(bobMutex.tryLock()).as("bob while alice holds").isEmpty();
        assertThat(bobMutex.holder()).hasValueSatisfying(h -> {
            assertThat(h.owner()).isEqualTo("alice");
            assertThat(h.fencingToken()).isEqualTo(first.fencingToken());
        });
        long live = IntStream.range(2, MASTERS)
                .filter(i -> ("" + first.fencingToken() + ":alice").equals(RedisTestSupport.withoutMark(servers.get(i).command("GET", stored(key)))))
                .count();
        assertThat(live).as("live masters holding alice's lock with its token").isEqualTo(3);

        assertThat(first.refresh()).isTrue();
        assertThat(first.expiresAt()).isAfter(Instant.now().plusSeconds(1));

        // bob waits; alice's release (on the 3 live masters) lets him in
        CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return bobMutex.lock(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        aliceMutex.unlock();
        assertThat(first.isValid()).isFalse();
        Lease second = waiter.get(10, TimeUnit.SECONDS);
        assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
        assertThat(aliceMutex.holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("bob"));
        second.close();
        assertThat(aliceMutex.holder()).isEmpty();
        for (int i = 2; i < MASTERS; i++) {
            assertThat(servers.get(i).command("GET", stored(key))).as("master %d after release", i).isNull();
        }

        // mutual exclusion between two Dlms, with two masters still dead
        AtomicInteger inside = new AtomicInteger();
        AtomicBoolean overlap = new AtomicBoolean();
        List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (Mutex mutex : List.of(aliceMutex, bobMutex)) {
                workers.add(pool.submit(() -> {
                    for (int i = 0; i < 4; i++) {
                        try (Lease lease = mutex.lock(Duration.ofSeconds(20))) {
                            if (inside.incrementAndGet() != 1) {
                                overlap.set(true);
                            }
                            tokens.add(lease.fencingToken());
                            Thread.sleep(30); // work done under the lock, so that an overlap would show
                            inside.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(40, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlap).as("two holders at once").isFalse();
        assertThat(tokens).hasSize(8).isSorted().doesNotHaveDuplicates();
        assertThat(tokens.get(0)).isGreaterThan(second.fencingToken());
    }

    @Test
    void threeOfFiveMastersKilled_neverGrants_andWorksAgainOnceTheyReturn() throws Exception {
        String key = key("three-killed");
        Dlm alice = dlm("alice");
        Dlm bob = dlm("bob");
        Mutex aliceMutex = alice.newMutex(key, Duration.ofSeconds(2));
        Mutex bobMutex = bob.newMutex(key, Duration.ofSeconds(2));
        kill(0, 1, 2);

        for (int attempt = 0; attempt < 4; attempt++) {
            for (Mutex mutex : List.of(aliceMutex, bobMutex)) {
                Optional<Lease> lease;
                try {
                    lease = mutex.tryLock();
                } catch (LockBackendException e) {
                    lease = Optional.empty();
                }
                assertThat(lease).as("attempt %d of %s with 2 of 5 masters alive", attempt, mutex.owner()).isEmpty();
            }
        }
        assertThatThrownBy(() -> aliceMutex.lock(Duration.ofSeconds(1)))
                .isInstanceOfAny(LockTimeoutException.class, LockBackendException.class);
        for (int i = 3; i < MASTERS; i++) {
            assertThat(servers.get(i).command("GET", stored(key)))
                    .as("live master %d after failed acquisitions: they must be released", i).isNull();
        }

        restart(0, 1, 2);
        Lease lease = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsInstanceOf(LockBackendException.class)
                .until(aliceMutex::tryLock, Optional::isPresent).orElseThrow();
        assertThat(lease.isValid()).isTrue();
        assertThat(bobMutex.tryLock()).isEmpty();
        assertThat(bobMutex.holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("alice"));
        lease.close();
        Lease bobs = bobMutex.tryLock().orElseThrow(() -> new AssertionError("bob after alice released"));
        assertThat(bobs.fencingToken()).isGreaterThan(lease.fencingToken());
        bobs.close();
    }

    @Test
    void aHungMasterCostsAnAcquisitionNoMoreThanItsNodeTimeout() {
        String key = key("hung");
        Dlm alice = dlm("alice");
        Dlm bob = dlm("bob");
        Duration ttl = Duration.ofSeconds(2); // per-node timeout 200 ms
        servers.get(0).pause();
        try {
            Mutex mutex = alice.newMutex(key, ttl);
            for (int i = 0; i < 3; i++) {
                Instant before = Instant.now();
                long start = System.nanoTime();
                Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("4 of 5 masters answer"));
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(took).as("tryLock with one master hung").isLessThan(Duration.ofSeconds(1));
                assertThat(lease.isValid()).isTrue();
                assertThat(lease.expiresAt()).isBefore(before.plus(ttl));
                assertThat(bob.newMutex(key, ttl).tryLock()).isEmpty();

                start = System.nanoTime();
                assertThat(lease.refresh()).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refresh with one master hung")
                        .isLessThan(Duration.ofSeconds(1));
                lease.close();
            }
        } finally {
            servers.get(0).resume();
        }
    }

    @Test
    void aHungMajorityIsNotAcquiredUntilSilentForTheOperationTimeoutThenFailsNamingTheLimitEveryMasterHad() {
        Dlm alice = dlm("alice");
        Mutex mutex = alice.newMutex(key("hung-majority"), Duration.ofSeconds(2)); // per-node timeout 200 ms
        long start = System.nanoTime();
        alice.ping(); // the last round every master answered: the silence begins after it
        List.of(0, 1, 2).forEach(i -> servers.get(i).pause());
        try {
            assertThat(mutex.tryLock()).as("tryLock while late answers are excused").isEmpty();
            AtomicReference<LockBackendException> failure = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                try {
                    assertThat(mutex.tryLock()).isEmpty();
                    return false;
                } catch (LockBackendException e) {
                    failure.set(e);
                    return true;
                }
            });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("silence before the failure")
                    .isGreaterThanOrEqualTo(OPERATION_TIMEOUT);
            assertThat(failure.get())
                    .isInstanceOf(LockBackendException.class)
                    .hasMessageContaining("only 2 of 5 Redis masters answered")
                    .hasMessageContaining(servers.get(0).hostAndPort() + ": no answer within 200 ms")
                    .hasMessageContaining(servers.get(2).hostAndPort() + ": no answer within 200 ms")
                    .hasMessageNotContaining("PT0S");
        } finally {
            List.of(0, 1, 2).forEach(i -> servers.get(i).resume());
        }
    }

    @Test
    void aHungMasterDoesNotBlockADlmThatHasNotConnectedToItYet() {
        String key = key("hung-fresh");
        warmUpClientLibrary();
        servers.get(0).pause();
        try {
            Dlm alice = freshDlm("alice");
            Duration ttl = Duration.ofSeconds(2);
            Instant before = Instant.now();
            long start = System.nanoTime();
            Lease lease = alice.newMutex(key, ttl).tryLock()
                    .orElseThrow(() -> new AssertionError("4 of 5 masters answer"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("first tryLock with one master hung")
                    .isLessThan(Duration.ofSeconds(1));
            assertThat(lease.expiresAt()).isBefore(before.plus(ttl));
            lease.close();
        } finally {
            servers.get(0).resume();
        }
    }

    /**
     * Acquisitions and releases sent to a master while it is hung reach it once it answers again;
     * a release must not overtake its own acquisition there, or that master keeps a released lock
     * (blocking everyone else on it) for the whole ttl.
     */
    @Test
    void locksReleasedWhileAMasterWasHungAreNotLeftHeldOnItOnceItAnswers() {
        warmUpClientLibrary();
        List<String> keys = IntStream.range(0, 6).mapToObj(i -> key("hung-release-" + i)).toList();
        servers.get(0).pause();
        servers.get(1).pause();
        try {
            Dlm alice = freshDlm("alice"); // not yet connected to the hung masters
            for (String key : keys) {
                Lease lease = alice.newMutex(key, Duration.ofSeconds(2)).tryLock()
                        .orElseThrow(() -> new AssertionError("3 of 5 masters answer"));
                lease.close();
            }
        } finally {
            servers.get(0).resume();
            servers.get(1).resume();
        }
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            for (int i = 0; i < MASTERS; i++) {
                for (String key : keys) {
                    assertThat(servers.get(i).command("GET", stored(key)))
                            .as("master %d holds the released lock %s", i, key).isNull();
                }
            }
        });
    }

    /** A Dlm that has not yet talked to any master. */
    private Dlm freshDlm(String owner) {
        Dlm dlm = RedlockDlm.create(clients, DlmOptions.builder().defaultOwner(owner)
                .operationTimeout(OPERATION_TIMEOUT).build());
        dlms.add(dlm);
        return dlm;
    }

    /**
     * Loads and starts the client library (Netty, Lettuce) in this JVM, so that the first connection
     * of a fresh Dlm costs what it costs in a running application, not a cold JVM's class loading.
     */
    private void warmUpClientLibrary() {
        try (Dlm warm = RedlockDlm.create(clients, DlmOptions.builder().defaultOwner("warm-up").build())) {
            warm.ping();
        }
    }

    @Test
    void aLeaseKeepsRefreshingWithTwoMastersDead_andIsLostAfterItsExpiryWithThree() {
        String key = key("auto-refresh");
        Dlm alice = dlm("alice");
        Dlm bob = dlm("bob");
        Duration ttl = Duration.ofMillis(1500); // refreshed every 500 ms
        Mutex mutex = alice.newMutex(MutexOptions.builder(key).ttl(ttl).autoRefresh(true).build());
        Lease lease = mutex.tryLock().orElseThrow();
        CountDownLatch lost = new CountDownLatch(1);
        AtomicReference<Instant> lostAt = new AtomicReference<>();
        lease.onLost(() -> {
            lostAt.set(Instant.now());
            lost.countDown();
        });

        kill(0, 1);
        Instant killedAt = Instant.now();
        // auto-refresh goes on: the estimate moves forward, and the lease stays valid well past its first ttl
        await().atMost(Duration.ofSeconds(5)).until(() -> lease.expiresAt().isAfter(killedAt.plus(ttl)));
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4)).until(lease::isValid);
        assertThat(lost.getCount()).as("onLost with 3 of 5 masters alive").isEqualTo(1);
        assertThat(bob.newMutex(key, ttl).tryLock()).isEmpty();
        assertThat(bob.newMutex(key).holder()).hasValueSatisfying(h -> {
            assertThat(h.owner()).isEqualTo("alice");
            assertThat(h.fencingToken()).isEqualTo(lease.fencingToken());
        });

        kill(2);
        boolean refreshed;
        try {
            refreshed = lease.refresh();
        } catch (LockBackendException e) {
            refreshed = false;
        }
        assertThat(refreshed).as("refresh with 2 of 5 masters alive").isFalse();
        Instant expiry = lease.expiresAt();
        try {
            assertThat(lost.await(10, TimeUnit.SECONDS)).as("onLost fired").isTrue();
        } catch (InterruptedException e) {
            fail("interrupted", e);
        }
        assertThat(lostAt.get()).as("lost only once its expiry passed").isAfterOrEqualTo(expiry);
        assertThat(lease.isValid()).isFalse();
    }
}
