package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.BadServer;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.etcd.EtcdTestSupport.connectionsTo;
import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * {@code Dlms.fromUri} for {@code etcd://host:port[,host:port...][?prefix=...]} and {@code etcds://},
 * on a three-member cluster.
 *
 * <p>No test connects with TLS: that needs a member started with certificates, which the launcher
 * does not do. {@code etcds://} is only checked to be accepted and to fail cleanly (not hang)
 * against a member that speaks plain HTTP/2.
 */
@WithEtcd(members = 3, own = true)
class EtcdUriTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);
    /** Above the operation timeout for a failing call: thread scheduling, jetcd's own retries. */
    private static final Duration SLACK = Duration.ofSeconds(2);

    private static EtcdCluster etcd;
    private static ExecutorService threads;

    @BeforeAll
    static void startServer(EtcdCluster shared) {
        etcd = shared;
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static DlmOptions options(String owner) {
        return EtcdTestSupport.options(owner).operationTimeout(OPERATION_TIMEOUT).build();
    }

    /** Runs {@code call} on another thread, so that a hang fails the test instead of blocking it. */
    private static <T> Future<T> inBackground(ThrowingSupplier<T> call) {
        return threads.submit(() -> {
            try {
                return call.get();
            } catch (Throwable t) {
                throw t instanceof Exception e ? e : new RuntimeException(t);
            }
        });
    }

    /** The failure of {@code call} and how long it took; fails if it returns or takes longer than 20 s. */
    private static Throwable failureOf(ThrowingSupplier<?> call, Duration[] took) throws Exception {
        long start = System.nanoTime();
        Future<?> f = inBackground(call);
        Throwable failure = catchThrowable(() -> f.get(20, TimeUnit.SECONDS));
        took[0] = Duration.ofNanos(System.nanoTime() - start);
        assertThat(failure).as("the call should fail, but it returned").isInstanceOf(java.util.concurrent.ExecutionException.class);
        return failure.getCause();
    }

    @Test
    void aUriListingAllMembersWorksAndKeepsWorkingWithoutTheFirstMember() throws Exception {
        String key = newKey("all-members");
        String uri = etcd.endpointsUri();
        assertThat(uri).startsWith("etcd://").contains(",");
        EtcdMember first = etcd.member(0);
        try (Dlm dlm = Dlms.fromUri(uri, options("a"))) {
            assertThat(dlm.ping()).isPositive();
            Lease lease = dlm.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
            assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).isEqualTo("a");

            // the client knows the other members too: without member 0 the Dlm still works
            first.kill();
            etcd.awaitLeader(Duration.ofSeconds(10));
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> dlm.ping() != null);
            String other = newKey("without-m0");
            assertThat(dlm.newMutex(other, Duration.ofSeconds(30)).tryLock()).isPresent();
            assertThat(dlm.newMutex(key).holder().orElseThrow().fencingToken()).isEqualTo(lease.fencingToken());
            dlm.newMutex(other).unlock();
            // the hold on key is left to close()
        } finally {
            if (!first.isRunning()) {
                first.restart();
            }
        }
        assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).as("released on close").isNull();
    }

    @Test
    void aUriWithOneHostWorks() {
        String key = newKey("one-host");
        try (Dlm dlm = Dlms.fromUri("etcd://" + etcd.member(1).hostAndPort(), options("a"))) {
            dlm.ping();
            Lease lease = dlm.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
            assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).isEqualTo("a");
            lease.close();
            assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).isNull();
        }
    }

    @Test
    void thePrefixOptionPutsTheKeysUnderIt() {
        String key = newKey("prefixed");
        try (Dlm app = Dlms.fromUri(etcd.endpointsUri() + "?prefix=app/", options("a"));
             Dlm plain = Dlms.fromUri(etcd.endpointsUri(), options("b"))) {
            Lease lease = app.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
            assertThat(etcd.get("app/" + key)).isEqualTo("a");
            assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).isNull();
            // the same name under the default prefix is another lock
            Mutex elsewhere = plain.newMutex(key, Duration.ofSeconds(30));
            assertThat(elsewhere.holder()).isEmpty();
            assertThat(elsewhere.tryLock()).isPresent();
            elsewhere.unlock();
            assertThat(app.newMutex(key).holder().orElseThrow().owner()).isEqualTo("a");
            lease.close();
            assertThat(etcd.get("app/" + key)).isNull();
        }
    }

    @Test
    void anUnknownOptionIsRejectedByName() {
        String host = etcd.member(0).hostAndPort();
        assertThatThrownBy(() -> Dlms.fromUri("etcd://" + host + "?colection=locks", options("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("colection");
        assertThatThrownBy(() -> Dlms.fromUri("etcd://" + host + "?prefix=app/&timeout=3", options("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout");
    }

    @Test
    void aDuplicateEndpointIsRejected() {
        String host = etcd.member(0).hostAndPort();
        assertThatThrownBy(() -> Dlms.fromUri("etcd://" + host + "," + etcd.member(1).hostAndPort() + "," + host,
                options("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(host);
        // the default port counts: localhost and localhost:2379 are the same endpoint
        assertThatThrownBy(() -> Dlms.fromUri("etcd://localhost,localhost:2379", options("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("localhost:2379");
    }

    /**
     * {@code etcds://} is accepted (a Dlm is built), but the member speaks plain HTTP/2: the TLS
     * handshake fails, and ping and tryLock end with a LockBackendException within the operation
     * timeout instead of hanging.
     */
    @Test
    void etcdsIsAcceptedAndFailsCleanlyAgainstAPlainMember() throws Exception {
        String host = etcd.member(0).hostAndPort();
        try (Dlm dlm = Dlms.fromUri("etcds://" + host, options("a"))) {
            Duration[] took = new Duration[1];
            Throwable ping = failureOf(dlm::ping, took); // fails here if etcds:// talks plain HTTP/2
            assertThat(ping).isInstanceOf(LockBackendException.class).hasMessageContaining("etcd");
            assertThat(took[0]).as("ping over TLS to a plain member").isLessThan(OPERATION_TIMEOUT.plus(SLACK));

            Throwable tryLock = failureOf(() -> dlm.newMutex(newKey("tls")).tryLock(), took);
            assertThat(tryLock).isInstanceOf(LockBackendException.class).hasMessageContaining("etcd");
            assertThat(took[0]).as("tryLock over TLS to a plain member").isLessThan(OPERATION_TIMEOUT.plus(SLACK));
        }
    }

    /**
     * The Dlm built from a URI owns its jetcd client: closing the Dlm releases its holds first and
     * then closes the client, whose connection to the member goes away (counted in
     * {@code /proc/net/tcp}). Later calls throw IllegalStateException; a second close does nothing.
     * A Dlm on a user's client leaves the client open.
     */
    @Test
    void closingAFromUriDlmClosesItsClientButNotAUsersClient() throws Exception {
        EtcdMember member = etcd.member(2);
        String key = newKey("close");
        long baseline = connectionsTo(member.clientPort());

        Dlm dlm = Dlms.fromUri("etcd://" + member.hostAndPort(), options("a"));
        Mutex mutex = dlm.newMutex(key, Duration.ofSeconds(30));
        mutex.tryLock().orElseThrow();
        await().atMost(Duration.ofSeconds(5)).until(() -> connectionsTo(member.clientPort()) == baseline + 1);

        dlm.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> connectionsTo(member.clientPort()) == baseline);
        assertThat(etcd.get(EtcdDlm.DEFAULT_KEY_PREFIX + key)).as("the hold, released by close()").isNull();
        assertThatThrownBy(dlm::ping).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(mutex::tryLock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> dlm.newMutex(key)).isInstanceOf(IllegalStateException.class);
        dlm.close(); // idempotent

        try (Client userClient = EtcdTestSupport.client(member)) {
            Dlm onUserClient = EtcdDlm.create(userClient, options("a"));
            onUserClient.ping();
            await().atMost(Duration.ofSeconds(5)).until(() -> connectionsTo(member.clientPort()) == baseline + 1);
            onUserClient.close();
            userClient.getKVClient().get(EtcdTestSupport.bytes("anything")).get(5, TimeUnit.SECONDS);
            assertThat(connectionsTo(member.clientPort())).as("the user's client stays connected").isEqualTo(baseline + 1);
        }
    }

    /**
     * A release revokes the hold's lease, also the release that closing a Dlm does: closing the
     * client right after must not cut the revoke off, or the lease stays in etcd until its ttl.
     */
    @Test
    void closingAFromUriDlmRevokesTheLeasesOfItsHolds() {
        String key = newKey("close-revoke");
        try (Client inspect = EtcdTestSupport.client(etcd.member(0))) {
            Dlm dlm = Dlms.fromUri("etcd://" + etcd.member(1).hostAndPort(), options("a"));
            dlm.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
            long leaseId = EtcdTestSupport.stored(inspect, key).orElseThrow().getLease();
            dlm.close();
            assertThat(EtcdTestSupport.stored(inspect, key)).as("the key after close()").isEmpty();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(EtcdTestSupport.timeToLive(inspect, leaseId).getTTL())
                            .as("ttl of the lease of the hold close() released").isEqualTo(-1));
        }
    }

    /**
     * Nobody listens at the address: ping and tryLock fail with a LockBackendException that names
     * etcd and the address, within the operation timeout (2 s) and some slack.
     */
    @Test
    void anUnreachableEndpointFailsWithinTheOperationTimeoutNamingTheAddress() throws Exception {
        String address = "127.0.0.1:" + BadServer.closedPort();
        try (Dlm dlm = Dlms.fromUri("etcd://" + address, options("a"))) {
            Duration[] took = new Duration[1];
            Throwable ping = failureOf(dlm::ping, took);
            assertThat(ping).isInstanceOf(LockBackendException.class)
                    .hasMessageContaining("etcd").hasMessageContaining(address);
            assertThat(took[0]).as("ping of an unreachable endpoint").isLessThan(OPERATION_TIMEOUT.plus(SLACK));

            Throwable tryLock = failureOf(() -> dlm.newMutex(newKey("unreachable")).tryLock(), took);
            assertThat(tryLock).isInstanceOf(LockBackendException.class)
                    .hasMessageContaining("etcd").hasMessageContaining(address);
            assertThat(took[0]).as("tryLock on an unreachable endpoint").isLessThan(OPERATION_TIMEOUT.plus(SLACK));
        }
    }

    /**
     * The same with a client the user built: the contract wants the address named in every backend
     * failure, also when the Dlm did not build the client itself.
     */
    @Test
    void anUnreachableUsersClientFailsNamingTheAddress() throws Exception {
        String address = "127.0.0.1:" + BadServer.closedPort();
        try (Client userClient = EtcdTestSupport.client(java.util.List.of("http://" + address));
             Dlm dlm = EtcdDlm.create(userClient, options("a"))) {
            Duration[] took = new Duration[1];
            Throwable ping = failureOf(dlm::ping, took);
            assertThat(ping).isInstanceOf(LockBackendException.class)
                    .hasMessageContaining("etcd").hasMessageContaining(address);
            assertThat(took[0]).isLessThan(OPERATION_TIMEOUT.plus(SLACK));
        }
    }
}
