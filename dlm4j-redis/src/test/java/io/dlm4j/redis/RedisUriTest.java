package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static io.dlm4j.redis.RedisTestSupport.newKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code Dlms.fromUri} for {@code redis://} and {@code rediss://}: host and port, password and ACL
 * user, database, key prefix, the errors for bad URIs, and that the Dlm closes the client it made.
 *
 * <p>Two servers: one open, one that needs a password ({@code s3cret}) and has an ACL user
 * {@code alice} (password {@code pw}). The secured one is started open and then locked down with
 * CONFIG SET and ACL SETUSER, because RedisServer's readiness probe (an unauthenticated PING)
 * never succeeds on a server started with {@code --requirepass}.
 */
class RedisUriTest {

    private static final DlmOptions OPTIONS = DlmOptions.builder()
            .defaultOwner("uri-test")
            .operationTimeout(Duration.ofSeconds(2))
            .build();
    /** The operation timeout plus slack for a loaded 2-core machine. */
    private static final Duration BOUND = Duration.ofSeconds(5);

    private static RedisServer open;
    private static RedisServer secured;
    private static RedisClient inspectClient;
    private static StatefulRedisConnection<String, String> openConnection;
    private static StatefulRedisConnection<String, String> securedConnection;
    private static RedisCommands<String, String> openRedis;
    private static RedisCommands<String, String> securedRedis;

    @BeforeAll
    static void startServers() {
        open = RedisServer.start();
        secured = RedisServer.start();
        assertThat(secured.command("ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all")).isEqualTo("+OK");
        assertThat(secured.command("CONFIG", "SET", "requirepass", "s3cret")).isEqualTo("+OK");

        inspectClient = RedisClient.create();
        openConnection = inspectClient.connect(RedisURI.create(open.uri()));
        openRedis = openConnection.sync();
        securedConnection = inspectClient.connect(RedisURI.builder(RedisURI.create(secured.uri()))
                .withPassword("s3cret".toCharArray()).build());
        securedRedis = securedConnection.sync();
    }

    @AfterAll
    static void stopServers() {
        if (openConnection != null) {
            openConnection.close();
        }
        if (securedConnection != null) {
            securedConnection.close();
        }
        if (inspectClient != null) {
            inspectClient.shutdown();
        }
        if (open != null) {
            open.close();
        }
        if (secured != null) {
            secured.close();
        }
    }

    /** Locks a fresh key through {@code dlm}, asserts the lock is there, releases it; returns the key. */
    private static String lockAndUnlock(Dlm dlm) {
        String key = newKey("uri");
        try (Lease lease = dlm.newMutex(key).tryLock().orElseThrow()) {
            assertThat(lease.isValid()).isTrue();
            assertThat(dlm.newMutex(key).holder()).isPresent();
        }
        return key;
    }

    private static LockBackendException failsInTime(String what, Runnable call) {
        long start = System.nanoTime();
        Throwable thrown = catchThrowable(call::run);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(thrown).as("%s", what).isInstanceOf(LockBackendException.class);
        assertThat(took).as("time %s took to fail", what).isLessThan(BOUND);
        return (LockBackendException) thrown;
    }

    @Test
    void hostAndPortReachTheServer() {
        try (Dlm dlm = Dlms.fromUri("redis://127.0.0.1:" + open.port(), OPTIONS)) {
            assertThat(dlm.ping()).isPositive();
            String key = newKey("plain");
            Lease lease = dlm.newMutex(key).tryLock().orElseThrow();
            assertThat(RedisTestSupport.withoutMark(openRedis.get("dlm4j:{" + key + "}"))).isEqualTo(lease.fencingToken() + ":uri-test");
            lease.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis://:s3cret@127.0.0.1:%d", "redis://127.0.0.1:%d?password=s3cret",
            "redis://s3cret@127.0.0.1:%d", "redis://127.0.0.1:%d?password=s3cr%%65t"})
    void aPasswordInTheUriAuthenticates(String template) {
        String uri = String.format(template, secured.port());
        try (Dlm dlm = Dlms.fromUri(uri, OPTIONS)) {
            String key = newKey("password");
            Lease lease = dlm.newMutex(key).tryLock().orElseThrow();
            assertThat(securedRedis.exists("dlm4j:{" + key + "}")).isEqualTo(1L);
            lease.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis://:wrong-pw@127.0.0.1:%d", "redis://127.0.0.1:%d?password=wrong-pw",
            "redis://127.0.0.1:%d", "redis://alice:wrong-pw@127.0.0.1:%d"})
    void aWrongOrMissingPasswordFailsInTimeWithoutShowingThePassword(String template) {
        String uri = String.format(template, secured.port());
        try (Dlm dlm = Dlms.fromUri(uri, OPTIONS)) {
            Mutex mutex = dlm.newMutex(newKey("wrong"));
            LockBackendException ping = failsInTime("ping", dlm::ping);
            LockBackendException tryLock = failsInTime("tryLock", mutex::tryLock);
            for (LockBackendException e : new LockBackendException[] {ping, tryLock}) {
                assertThat(e.getMessage()).contains("Redis").contains(secured.hostAndPort())
                        .doesNotContain("wrong-pw");
            }
        }
    }

    @Test
    void anAclUserInTheUriAuthenticatesAsThatUser() {
        // alice's password is not the default user's: this only works as alice
        try (Dlm dlm = Dlms.fromUri("redis://alice:pw@127.0.0.1:" + secured.port(), OPTIONS)) {
            lockAndUnlock(dlm);
            Set<String> users = securedRedis.clientList().lines()
                    .flatMap(line -> java.util.Arrays.stream(line.split(" ")))
                    .filter(field -> field.startsWith("user="))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertThat(users).contains("user=alice");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"x:", "my%3Aapp%3A"})
    void thePrefixOptionNamesTheKeys(String prefixInUri) {
        String prefix = prefixInUri.replace("%3A", ":");
        try (Dlm dlm = Dlms.fromUri(open.uri() + "?prefix=" + prefixInUri, OPTIONS)) {
            String key = newKey("prefix");
            Lease lease = dlm.newMutex(key).tryLock().orElseThrow();
            assertThat(new TreeSet<>(openRedis.keys("*" + key + "*")))
                    .containsExactly(prefix + "{" + key + "}", prefix + "{" + key + "}:fence");
            lease.close();
        }
    }

    @Test
    void aPathSelectsTheDatabase() {
        try (Dlm dlm = Dlms.fromUri(open.uri() + "/2", OPTIONS);
             StatefulRedisConnection<String, String> db2 = inspectClient.connect(
                     RedisURI.builder(RedisURI.create(open.uri())).withDatabase(2).build())) {
            String key = newKey("database");
            Lease lease = dlm.newMutex(key).tryLock().orElseThrow();
            assertThat(db2.sync().exists("dlm4j:{" + key + "}", "dlm4j:{" + key + "}:fence"))
                    .as("lock and fence keys in database 2").isEqualTo(2L);
            assertThat(openRedis.exists("dlm4j:{" + key + "}", "dlm4j:{" + key + "}:fence"))
                    .as("in database 0").isZero();
            lease.close();
            // a lock in database 2 is another lock than the same name in database 0
            try (Dlm db0 = Dlms.fromUri(open.uri() + "?prefix=dlm4j:", OPTIONS)) {
                Lease inDb2 = dlm.newMutex(key).tryLock().orElseThrow();
                Mutex other = db0.newMutex(MutexOptions.builder(key).owner("other").build());
                assertThat(other.tryLock()).isPresent();
                inDb2.close();
                other.unlock();
            }
        }
    }

    @Test
    void anUnknownOptionIsRejectedByName() {
        assertThatThrownBy(() -> Dlms.fromUri(open.uri() + "?prefix=x:&colection=locks", OPTIONS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("colection");
    }

    @Test
    void twoHostsAreRejectedWithAPointerToRedlock() {
        assertThatThrownBy(() -> Dlms.fromUri("redis://127.0.0.1:" + open.port() + ",127.0.0.1:" + secured.port(),
                OPTIONS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("redlock");
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis://127.0.0.1:abc", "redis://127.0.0.1:99999", "redis://127.0.0.1:-1",
            "redis://127.0.0.1:", "redis://127.0.0.1:0"})
    void aBadPortIsRejected(String uri) {
        assertThatThrownBy(() -> Dlms.fromUri(uri, OPTIONS).close())
                .isInstanceOf(IllegalArgumentException.class)
                .message().containsIgnoringCase("port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"redis://:6379", "redis://", "redis://127.0.0.1:6379/two"})
    void aMissingHostOrABadDatabaseIsRejected(String uri) {
        assertThatThrownBy(() -> Dlms.fromUri(uri, OPTIONS).close())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void thePortDefaultsTo6379() throws IOException {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress("127.0.0.1", 6379), 200);
            assumeThat(false).as("something listens on 127.0.0.1:6379").isTrue();
        } catch (IOException nothingThere) {
            // as expected: then the Dlm must fail naming the default port
        }
        try (Dlm dlm = Dlms.fromUri("redis://127.0.0.1", OPTIONS)) {
            assertThat(failsInTime("ping", dlm::ping).getMessage()).contains("127.0.0.1:6379");
        }
    }

    @Test
    void closingAUriDlmClosesItsClientAndIsIdempotent() throws InterruptedException {
        Set<String> lettuceThreadsBefore = lettuceThreads();
        long clientsBefore = connectedClients();
        Dlm dlm = Dlms.fromUri(open.uri(), OPTIONS);
        String key = newKey("close");
        Mutex mutex = dlm.newMutex(key);
        mutex.tryLock().orElseThrow();
        // a waiter of another owner opens the pub/sub connection too
        Mutex other = dlm.newMutex(MutexOptions.builder(key).owner("other").build());
        assertThatThrownBy(() -> other.lock(Duration.ofMillis(300))).isInstanceOf(LockTimeoutException.class);
        assertThat(connectedClients()).as("connections with the Dlm open").isEqualTo(clientsBefore + 2);

        dlm.close();

        assertThat(openRedis.exists("dlm4j:{" + key + "}")).as("close released the hold").isZero();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(connectedClients()).as("connections after close").isEqualTo(clientsBefore);
            assertThat(lettuceThreads()).as("client threads after close").isSubsetOf(lettuceThreadsBefore);
        });
        assertThatThrownBy(mutex::tryLock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(dlm::ping).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> dlm.newMutex("after-close")).isInstanceOf(IllegalStateException.class);
        dlm.close(); // idempotent
    }

    @Test
    void closingADlmOnTheUsersClientLeavesThatClientOpen() {
        RedisClient client = RedisClient.create(open.uri());
        try {
            Dlm dlm = RedisDlm.create(client, OPTIONS);
            lockAndUnlock(dlm);
            dlm.close();
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                assertThat(connection.sync().ping()).isEqualTo("PONG");
            }
        } finally {
            client.shutdown();
        }
    }

    /**
     * {@code rediss://} is accepted. A real TLS test would need a server with certificates (the
     * Debian redis-server can do TLS, but key material would have to be made for the test), so it
     * is not tested here; what is tested is that TLS against a plain server fails in time with a
     * LockBackendException instead of hanging in the handshake.
     */
    @Test
    void rediss_isAcceptedAndTlsAgainstAPlainServerFailsInTime() {
        try (Dlm dlm = Dlms.fromUri("rediss://:pw@127.0.0.1:" + open.port() + "?prefix=t:", OPTIONS)) {
            Mutex mutex = dlm.newMutex(newKey("tls"));
            LockBackendException e = failsInTime("tryLock over TLS to a plain server", mutex::tryLock);
            assertThat(e.getMessage()).contains("Redis").contains(open.hostAndPort());
            failsInTime("ping over TLS to a plain server", dlm::ping);
        }
    }

    private static long connectedClients() {
        String info = open.command("INFO", "clients");
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("connected_clients:")) {
                return Long.parseLong(line.substring("connected_clients:".length()).trim());
            }
        }
        throw new IllegalStateException("no connected_clients in " + info);
    }

    private static Set<String> lettuceThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.startsWith("lettuce-"))
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
