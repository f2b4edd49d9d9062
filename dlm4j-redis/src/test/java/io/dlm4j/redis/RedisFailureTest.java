package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.dlm4j.redis.RedisTestSupport.calls;
import static io.dlm4j.redis.RedisTestSupport.newKey;
import static io.dlm4j.redis.RedisTestSupport.resetStats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * A Redis that stops, freezes, dies or restarts: every operation fails with a
 * {@link LockBackendException} naming Redis and its address within the operation timeout, and the
 * same Dlm works again once the server is back. Each test starts its own server, since each one
 * takes it down.
 *
 * <p>Both ways of making a RedisDlm are tested: from a URI (the Dlm makes its client, which
 * rejects commands while disconnected) and on a client the user made with Lettuce's defaults
 * (which queues commands while it reconnects).
 */
class RedisFailureTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);
    /** The operation timeout plus slack for a loaded 2-core machine. */
    private static final Duration BOUND = OPERATION_TIMEOUT.plusSeconds(3);
    /** How long a restarted server may take to be usable again through the same Dlm. */
    private static final Duration BACK_WITHIN = Duration.ofSeconds(10);

    /** How the Dlm under test is made. */
    enum Kind {
        URI, USER_CLIENT
    }

    private RedisServer server;
    private RedisClient userClient;

    @AfterEach
    void cleanUp() {
        if (userClient != null) {
            userClient.shutdown();
        }
        if (server != null) {
            server.close();
        }
    }

    private static DlmOptions options(String owner) {
        return DlmOptions.builder()
                .defaultOwner(owner)
                .operationTimeout(OPERATION_TIMEOUT)
                .waitingInterval(Duration.ofMillis(500))
                .build();
    }

    private Dlm dlm(Kind kind, String owner) {
        if (kind == Kind.URI) {
            return Dlms.fromUri(server.uri(), options(owner));
        }
        if (userClient == null) {
            userClient = RedisClient.create(server.uri());
        }
        return RedisDlm.create(userClient, options(owner));
    }

    /** Runs {@code call}, asserts that it failed with a LockBackendException naming Redis and the address in time. */
    private LockBackendException failsInTime(String what, ThrowingCallable call) {
        long start = System.nanoTime();
        Throwable thrown = catchThrowable(call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(thrown).as("%s", what).isInstanceOf(LockBackendException.class);
        assertThat(thrown.getMessage()).as("message of %s", what)
                .contains("Redis")
                .contains(server.hostAndPort());
        assertThat(thrown.getCause()).as("cause of %s", what).isNotNull();
        assertThat(took).as("time %s took to fail", what).isLessThan(BOUND);
        return (LockBackendException) thrown;
    }

    private static void awaitWorking(Mutex mutex) {
        await().atMost(BACK_WITHIN)
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> {
                    Optional<Lease> lease = mutex.tryLock();
                    lease.ifPresent(Lease::close);
                    return lease.isPresent();
                });
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aStoppedServerFailsEveryOperationNamingItsAddressAndTheDlmWorksAfterARestart(Kind kind) {
        server = RedisServer.start();
        try (Dlm dlm = dlm(kind, "a")) {
            Mutex mutex = dlm.newMutex(newKey("stopped"));
            mutex.tryLock().orElseThrow().close(); // connected, address known

            server.stop();

            failsInTime("ping", dlm::ping);
            failsInTime("tryLock", mutex::tryLock);
            failsInTime("holder", mutex::holder);
            failsInTime("unlock", mutex::unlock);
            failsInTime("lock(1s)", () -> mutex.lock(Duration.ofSeconds(1)));

            server.restart();
            awaitWorking(mutex);
            assertThat(dlm.ping()).isPositive();
        }
    }

    @Test
    void aUriDlmWhoseServerWasDownFromTheStartFailsNamingTheAddressAndWorksOnceItIsUp() {
        server = RedisServer.start();
        server.stop();
        try (Dlm dlm = dlm(Kind.URI, "a")) { // making it does not connect
            Mutex mutex = dlm.newMutex(newKey("never-up"));
            failsInTime("ping", dlm::ping);
            failsInTime("tryLock", mutex::tryLock);

            server.restart();
            awaitWorking(mutex);
        }
    }

    /**
     * On a client the user made, the address is read from the server once connected; a Dlm that
     * never reached its server must still name the address (Lettuce's connect failure does).
     */
    @Test
    void aUserClientDlmWhoseServerWasDownFromTheStartStillNamesTheAddress() {
        server = RedisServer.start();
        server.stop();
        try (Dlm dlm = dlm(Kind.USER_CLIENT, "a")) {
            Mutex mutex = dlm.newMutex(newKey("never-up"));
            failsInTime("tryLock", mutex::tryLock);

            server.restart();
            awaitWorking(mutex);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPausedServerFailsTryLockInTimeAndTheDlmWorksAfterResume(Kind kind) {
        server = RedisServer.start();
        try (Dlm dlm = dlm(kind, "a")) {
            Mutex mutex = dlm.newMutex(newKey("paused"));
            mutex.tryLock().orElseThrow().close();

            server.pause();
            try {
                failsInTime("tryLock", mutex::tryLock);
                failsInTime("ping", dlm::ping);
            } finally {
                server.resume();
            }
            awaitWorking(mutex);
        }
    }

    /**
     * A Dlm whose first operation meets a frozen server: the connection is made (the kernel accepts
     * it) but the handshake is never answered. The operation timeout must still bound the call.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aServerPausedBeforeTheFirstConnectionFailsTheFirstOperationInTime(Kind kind) {
        server = RedisServer.start();
        try (Dlm dlm = dlm(kind, "a")) {
            Mutex mutex = dlm.newMutex(newKey("paused-first"));
            server.pause();
            try {
                long start = System.nanoTime();
                Throwable thrown = catchThrowable(mutex::tryLock);
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(thrown).isInstanceOf(LockBackendException.class);
                assertThat(took).as("time tryLock took to fail").isLessThan(BOUND);
            } finally {
                server.resume();
            }
            awaitWorking(mutex);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aServerKilledWhileAWaiterWaitsEndsTheWaitWithALockBackendException(Kind kind) throws Exception {
        server = RedisServer.start();
        String key = newKey("killed");
        Dlm holderDlm = dlm(kind, "holder");
        try (Dlm waiterDlm = dlm(kind, "waiter")) {
            holderDlm.newMutex(key, Duration.ofSeconds(60)).tryLock().orElseThrow();
            resetStats(server);
            Future<Lease> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return waiterDlm.newMutex(key).lock();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            // tried, subscribed, tried again: now it waits
            await().atMost(Duration.ofSeconds(5)).until(() -> calls(server, "evalsha") >= 2);
            assertThat(waiter).isNotDone();

            long killedAt = System.nanoTime();
            server.kill();
            Throwable thrown = catchThrowable(() -> waiter.get(30, TimeUnit.SECONDS));
            Duration took = Duration.ofNanos(System.nanoTime() - killedAt);

            assertThat(thrown).isInstanceOf(ExecutionException.class);
            assertThat(thrown.getCause()).isInstanceOf(LockBackendException.class);
            assertThat(thrown.getCause().getMessage()).contains("Redis").contains(server.hostAndPort());
            // at the latest the next try (within the 500 ms waiting interval) fails in its timeout
            assertThat(took).as("time from the kill to the end of the wait")
                    .isLessThan(options("w").waitingInterval().plus(BOUND));

            // closing cannot release the hold on a dead server: it says so, and is closed all the same
            failsInTime("close of a Dlm that holds a lease", holderDlm::close);
            assertThat(catchThrowable(() -> holderDlm.newMutex(key))).isInstanceOf(IllegalStateException.class);
        } finally {
            catchThrowable(holderDlm::close); // idempotent; and must not hide a failure above
        }
    }

    /**
     * Known limit of one Redis without persistence: a restart loses every hold (and the fence
     * counters), so the lock is free afterwards although its holder never released it, and the
     * holder finds out only at its next refresh. Persistence or Redlock are the remedies.
     */
    @Test
    void knownLimit_aHoldIsLostWhenANonPersistentServerRestarts() {
        server = RedisServer.start();
        String key = newKey("restart-loses");
        try (Dlm holderDlm = dlm(Kind.URI, "holder"); Dlm otherDlm = dlm(Kind.URI, "other")) {
            Lease held = holderDlm.newMutex(key, Duration.ofSeconds(60)).tryLock().orElseThrow();
            AtomicBoolean lost = new AtomicBoolean();
            held.onLost(() -> lost.set(true));
            Mutex other = otherDlm.newMutex(key);
            assertThat(other.tryLock()).isEmpty();

            server.restart();

            awaitWorking(other); // the other owner gets the lock: the hold is gone
            await().atMost(BACK_WITHIN).ignoreExceptions().until(() -> !held.refresh());
            assertThat(lost).as("onLost after the refresh found the hold gone").isTrue();
            assertThat(held.isValid()).isFalse();
        }
    }

    /** With the append-only file (written before each reply), a hold and the fence counter survive kill -9. */
    @Test
    void aPersistentServerKeepsHoldsAndFenceCountersAcrossAKill() {
        server = RedisServer.start(RedisServer.Options.builder().persistent(true).build());
        String key = newKey("persistent");
        try (Dlm holderDlm = dlm(Kind.URI, "holder"); Dlm otherDlm = dlm(Kind.URI, "other")) {
            Lease held = holderDlm.newMutex(key, Duration.ofSeconds(60)).tryLock().orElseThrow();
            Mutex other = otherDlm.newMutex(key);

            server.kill();
            server.restart();

            await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> other.holder().isPresent());
            assertThat(other.holder()).hasValueSatisfying(info -> {
                assertThat(info.owner()).isEqualTo("holder");
                assertThat(info.fencingToken()).isEqualTo(held.fencingToken());
            });
            assertThat(other.tryLock()).isEmpty();
            assertThat(held.refresh()).isTrue();

            held.close();
            Lease next = other.tryLock().orElseThrow();
            assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
            next.close();
        }
    }
}
