package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testservers.BadServer;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * A MongoDB that is down, or goes down: every operation fails with a {@link LockBackendException}
 * that names the backend and its address, within the operation's deadline; nothing hangs.
 */
class MongoBackendFailureTest {

    /** The deadline plus generous slack for a loaded 2-core machine. */
    private static final Duration BOUND = Duration.ofSeconds(8);


    private static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** Runs {@code call}, asserts it failed with a LockBackendException in time, returns that exception. */
    private static LockBackendException failsInTime(String what, ThrowingCallable call) {
        long start = System.nanoTime();
        Throwable thrown = catchThrowable(call);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(thrown).as("%s", what).isInstanceOf(LockBackendException.class);
        assertThat(thrown.getCause()).as("cause of %s", what).isNotNull();
        assertThat(took).as("time %s took to fail", what).isLessThan(BOUND);
        return (LockBackendException) thrown;
    }

    @Test
    void aServerThatIsDownFailsEveryOperationOfAUriDlm() throws Exception {
        int port = BadServer.closedPort();
        String address = "127.0.0.1:" + port;
        DlmOptions options = DlmOptions.builder().defaultOwner("a").operationTimeout(Duration.ofSeconds(2)).build();

        long start = System.nanoTime();
        Dlm dlm = Dlms.fromUri("mongodb://" + address + "/db", options);   // must not throw
        try {
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("construction time").isLessThan(BOUND);
            Mutex mutex = dlm.newMutex(newKey("down"));

            LockBackendException ping = failsInTime("ping", dlm::ping);
            LockBackendException tryLock = failsInTime("tryLock", mutex::tryLock);
            LockBackendException lock = failsInTime("lock(1 s)", () -> mutex.lock(Duration.ofSeconds(1)));
            LockBackendException holder = failsInTime("holder", mutex::holder);
            for (LockBackendException e : new LockBackendException[] {ping, tryLock, lock, holder}) {
                assertThat(e.getMessage()).contains("MongoDB").contains(address).contains("db.locks");
            }
        } finally {
            dlm.close();
        }
    }

    @Test
    void aServerThatIsDownFailsOperationsOfAUsersClient() throws Exception {
        int port = BadServer.closedPort();
        String address = "127.0.0.1:" + port;
        MongoClientSettings settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://" + address))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(1, TimeUnit.SECONDS))
                .build();
        try (MongoClient client = MongoClients.create(settings)) {
            MongoCollection<Document> locks = client.getDatabase("userdb").getCollection("userlocks");
            long start = System.nanoTime();
            try (Dlm dlm = MongoDlm.create(locks, DlmOptions.builder().defaultOwner("a").build())) {
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("construction time").isLessThan(BOUND);
                Mutex mutex = dlm.newMutex(newKey("down"));
                LockBackendException tryLock = failsInTime("tryLock", mutex::tryLock);
                LockBackendException ping = failsInTime("ping", dlm::ping);
                for (LockBackendException e : new LockBackendException[] {tryLock, ping}) {
                    assertThat(e.getMessage()).contains("MongoDB").contains("userdb.userlocks").contains(address);
                }
            }
        }
    }

    @Test
    void aServerStoppedWhileInUseFailsTheNextTryLock() {
        EmbeddedMongoServer server = EmbeddedMongoServer.start();
        DlmOptions options = DlmOptions.builder().defaultOwner("a").operationTimeout(Duration.ofSeconds(2)).build();
        Dlm dlm = Dlms.fromUri(server.connectionString() + "/db", options);
        try {
            Mutex mutex = dlm.newMutex(newKey("stopped"));
            assertThat(mutex.tryLock()).isPresent();
            mutex.unlock();

            server.close();

            LockBackendException e = failsInTime("tryLock after the server stopped", mutex::tryLock);
            assertThat(e.getMessage()).contains("MongoDB").contains(server.hostAndPort());
        } finally {
            closeQuietly(dlm);
            server.close();
        }
    }

    @Test
    void aServerStoppedWhileLockWaitsEndsTheWaitWithTheBackendFailure() {
        EmbeddedMongoServer server = EmbeddedMongoServer.start();
        DlmOptions options = DlmOptions.builder().operationTimeout(Duration.ofSeconds(2)).build();
        String key = newKey("waiting");
        CommandRecorder waiterCommands = new CommandRecorder();
        MongoClientSettings waiterSettings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(server.connectionString()))
                .addCommandListener(waiterCommands)
                .build();
        try (MongoClient holderClient = MongoClients.create(server.connectionString());
             MongoClient waiterClient = MongoClients.create(waiterSettings)) {
            Dlm holderDlm = MongoDlm.create(holderClient.getDatabase("db").getCollection("locks"),
                    options.toBuilder().defaultOwner("holder").build());
            Dlm waiterDlm = MongoDlm.create(waiterClient.getDatabase("db").getCollection("locks"),
                    options.toBuilder().defaultOwner("waiter").build());
            try {
                assertThat(holderDlm.newMutex(key, Duration.ofMinutes(5)).tryLock()).isPresent();
                Mutex waiter = waiterDlm.newMutex(key);
                CompletableFuture<Lease> waiting = CompletableFuture.supplyAsync(() -> {
                    try {
                        return waiter.lock();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                // stop the server once the waiter has found the lock held (its read of the holder)
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> waiterCommands.lockCommandNames().contains("find"));
                assertThat(waiting).isNotDone();
                server.close();

                assertThatThrownBy(() -> waiting.get(BOUND.toSeconds() + 10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(LockBackendException.class)
                        .hasMessageContaining("MongoDB").hasMessageContaining("db.locks");
            } finally {
                closeQuietly(waiterDlm);
                closeQuietly(holderDlm);
            }
        } finally {
            server.close();
        }
    }

    @Test
    void anAutoRefreshedLeaseIsLostOnceTheServerStaysUnreachablePastItsExpiry() {
        EmbeddedMongoServer server = EmbeddedMongoServer.start();
        DlmOptions options = DlmOptions.builder().defaultOwner("refresher")
                .operationTimeout(Duration.ofMillis(300)).build();
        Dlm dlm = Dlms.fromUri(server.connectionString() + "/db", options);
        try {
            Mutex mutex = dlm.newMutex(MutexOptions.builder(newKey("unreachable"))
                    .ttl(Duration.ofSeconds(1)).autoRefresh(true).build());
            Lease lease = mutex.tryLock().orElseThrow();
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);

            server.close();

            // refreshes fail from now on; the lease is lost once its expiry passed, not before
            await().atMost(Duration.ofSeconds(8)).until(() -> lost.get() == 1);
            assertThat(lease.expiresAt()).isBefore(Instant.now());
            assertThat(lease.isValid()).isFalse();
            assertThat(lease.refresh()).isFalse();
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2)).until(() -> lost.get() == 1);
        } finally {
            closeQuietly(dlm);
            server.close();
        }
    }

    private static void closeQuietly(Dlm dlm) {
        try {
            dlm.close();
        } catch (LockBackendException e) {
            // releasing on a stopped server fails; the Dlm is closed all the same
        }
    }
}
