package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.MutexOptions;
import io.dlm4j.spi.Subscription;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.redis.RedisTestSupport.newKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Release notifications that a real Redis refuses or never confirms: waiters poll instead, and
 * neither lock() nor the subscription fails. Each test starts its own server.
 */
class RedisReleaseNotificationFailureTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(1);
    /** The operation timeout plus slack for a loaded 2-core machine; Lettuce's own timeout is 60 s. */
    private static final long BOUND_SECONDS = 6;
    private static final Duration WAITING_INTERVAL = Duration.ofMillis(300);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void cleanUp() throws Exception {
        threads.shutdownNow();
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T resource) {
        resources.add(resource);
        return resource;
    }

    /** A generous operation timeout: the first connection of a JVM also loads the client library. */
    private static DlmOptions options(String owner) {
        return DlmOptions.builder()
                .defaultOwner(owner)
                .defaultTtl(Duration.ofSeconds(30))
                .waitingInterval(WAITING_INTERVAL)
                .operationTimeout(Duration.ofSeconds(10))
                .build();
    }

    private RedisClient client(RedisURI uri) {
        RedisClient client = RedisClient.create(uri);
        resources.add(client::shutdown);
        return client;
    }

    /**
     * An ACL user that may not SUBSCRIBE (Redis answers NOPERM): its waiters still acquire once the
     * holder releases, by polling, and the Dlm warns once, not per waiter. The user keeps its channel
     * rights, so that its own releases may PUBLISH: a user without channel rights at all
     * ({@code resetchannels}) is refused SUBSCRIBE the same way, but also its release's PUBLISH,
     * which is another defect (issue 12 item 9, last bullet).
     */
    @Test
    void aUserRefusedSubscribeStillAcquiresByPollingWithOneWarning() throws Exception {
        RedisServer server = closeLater(RedisServer.start());
        assertThat(server.command("ACL", "SETUSER", "waiter", "on", ">waiter-secret", "~*", "allchannels", "+@all", "-subscribe"))
                .isEqualTo("+OK");
        RedisClient waiterClient = client(RedisURI.builder().withHost(server.host()).withPort(server.port())
                .withAuthentication("waiter", "waiter-secret".toCharArray()).build());
        RedisClient holderClient = client(RedisURI.create(server.uri()));
        List<String> keys = List.of(newKey("no-channel-a"), newKey("no-channel-b"), newKey("no-channel-c"));

        try (CapturedLog log = CapturedLog.start();
             Dlm holderDlm = RedisDlm.create(holderClient, options("holder"));
             Dlm waiterDlm = RedisDlm.create(waiterClient, options("unused"))) {
            List<Lease> held = new ArrayList<>();
            for (String key : keys) {
                held.add(holderDlm.newMutex(key).tryLock().orElseThrow());
            }
            List<Future<?>> waiters = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String key = keys.get(i % keys.size());
                waiters.add(threads.submit(() -> {
                    waiterDlm.newMutex(MutexOptions.builder(key).owner("waiter-" + key + "-" + Math.random()).build())
                            .lock().close();
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> ownLines(log, server).size() >= 1
                    || waiters.stream().anyMatch(Future::isDone));
            for (Future<?> waiter : waiters) {
                if (waiter.isDone()) {
                    waiter.get(); // a waiter that ended before the release: its failure is the news
                }
                assertThat(waiter).as("a waiter while the holder holds").isNotDone();
            }
            held.forEach(Lease::close);

            for (Future<?> waiter : waiters) {
                waiter.get(20, TimeUnit.SECONDS); // acquired (by polling) and released
            }
            assertThat(ownLines(log, server)).as("warnings of the refused subscriptions").hasSize(1)
                    .allSatisfy(line -> assertThat(line).contains("NOPERM").contains("poll")
                            .doesNotContain("waiter-secret"));
        }
    }

    /** Redlock, whose masters all refuse SUBSCRIBE: its waiters poll too, with one warning per master. */
    @Test
    void redlockWaitersRefusedSubscribePollWithOneWarningPerMaster() throws Exception {
        List<RedisServer> masters = new ArrayList<>();
        List<RedisClient> waiterClients = new ArrayList<>();
        List<RedisClient> holderClients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RedisServer master = closeLater(RedisServer.start());
            assertThat(master.command("ACL", "SETUSER", "waiter", "on", ">waiter-secret", "~*", "allchannels", "+@all",
                    "-subscribe")).isEqualTo("+OK");
            masters.add(master);
            waiterClients.add(client(RedisURI.builder().withHost(master.host()).withPort(master.port())
                    .withAuthentication("waiter", "waiter-secret".toCharArray()).build()));
            holderClients.add(client(RedisURI.create(master.uri())));
        }
        List<String> keys = List.of(newKey("redlock-no-channel-a"), newKey("redlock-no-channel-b"));

        try (CapturedLog log = CapturedLog.start();
             Dlm holderDlm = RedlockDlm.create(holderClients, options("holder"));
             Dlm waiterDlm = RedlockDlm.create(waiterClients, options("unused"))) {
            List<Lease> held = new ArrayList<>();
            for (String key : keys) {
                held.add(holderDlm.newMutex(key).tryLock().orElseThrow());
            }
            List<Future<?>> waiters = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String key = keys.get(i % keys.size());
                String owner = "waiter-" + i;
                waiters.add(threads.submit(() -> {
                    waiterDlm.newMutex(MutexOptions.builder(key).owner(owner).build()).lock().close();
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> masters.stream().allMatch(m -> !ownLines(log, m).isEmpty())
                    || waiters.stream().anyMatch(Future::isDone));
            for (Future<?> waiter : waiters) {
                if (waiter.isDone()) {
                    waiter.get();
                }
                assertThat(waiter).as("a waiter while the holder holds").isNotDone();
            }
            held.forEach(Lease::close);

            for (Future<?> waiter : waiters) {
                waiter.get(20, TimeUnit.SECONDS);
            }
            for (RedisServer master : masters) {
                assertThat(ownLines(log, master)).as("warnings for %s", master.hostAndPort()).hasSize(1);
            }
        }
    }

    private static List<String> ownLines(CapturedLog log, RedisServer server) {
        return log.lines("WARN", RedisReleaseNotices.class).stream().filter(l -> l.contains(server.hostAndPort())).toList();
    }

    /** A stopped server (SIGSTOP) whose pub/sub connection is already open never confirms a new channel. */
    @Test
    void aSubscribeToAPausedServerReturnsWithinTheOperationTimeoutAndListensOnceItResumes() throws Exception {
        RedisServer server = closeLater(RedisServer.start());
        RedisNode node = closeLater(new RedisNode(RedisClient.create(server.uri()), true, OPERATION_TIMEOUT, null));
        connect(node);
        await().atMost(Duration.ofSeconds(10)).until(() -> { // the pub/sub connection is open and confirmed
            closeLater(node.onRelease("released:before", () -> { }));
            return numsub(server, "released:before") == 1;
        });

        server.pause();
        CountDownLatch woken = new CountDownLatch(1);
        Future<Subscription> subscribing = threads.submit(() -> node.onRelease("released:during", woken::countDown));
        Subscription subscription = closeLater(subscribing.get(BOUND_SECONDS, TimeUnit.SECONDS));

        server.resume(); // the SUBSCRIBE sent meanwhile is answered now
        await().atMost(Duration.ofSeconds(10)).until(() -> numsub(server, "released:during") == 1);
        server.command("PUBLISH", "released:during", "k");
        assertThat(woken.await(10, TimeUnit.SECONDS)).as("woken by a release after the server resumed").isTrue();
        subscription.close();
    }

    /** A stopped server with no pub/sub connection yet: the connect handshake never completes. */
    @Test
    void aSubscribeWhosePubSubConnectHangsOnAPausedServerReturnsWithinTheOperationTimeout() throws Exception {
        RedisServer server = closeLater(RedisServer.start());
        RedisNode node = closeLater(new RedisNode(RedisClient.create(server.uri()), true, OPERATION_TIMEOUT, null));
        connect(node); // the command connection is open, the pub/sub one is not

        server.pause();
        Future<Subscription> subscribing = threads.submit(() -> node.onRelease("released:k", () -> { }));
        closeLater(subscribing.get(BOUND_SECONDS, TimeUnit.SECONDS));
        server.resume();
    }

    /** Waits until the node's command connection is open (in a new JVM the first one can take a while). */
    private static void connect(RedisNode node) {
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> node.ping() != null);
    }

    /** Subscribers of {@code channel}, from {@code PUBSUB NUMSUB}. */
    private static long numsub(RedisServer server, String channel) {
        RedisClient inspect = RedisClient.create(server.uri());
        try (var connection = inspect.connect()) {
            return connection.sync().pubsubNumsub(channel).getOrDefault(channel, 0L);
        } finally {
            inspect.shutdown();
        }
    }
}
