package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How RedlockDlm and redlock:// URIs take their list of masters. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@WithRedis(count = 4, own = true)
class RedlockInputTest {

    private static final DlmOptions OPTIONS = DlmOptions.builder().defaultOwner("alice")
            .operationTimeout(Duration.ofSeconds(2)).build();

    private static List<RedisServer> servers;
    private static List<RedisClient> clients;

    @BeforeAll
    static void startServers(List<RedisServer> shared) {
        servers = shared;
        clients = servers.stream().map(s -> RedisClient.create(s.uri())).toList();
    }

    @AfterAll
    static void stopServers() {
        clients.forEach(RedisClient::shutdown);
    }

    private static String key(String name) {
        return "redlock-input-" + name + "-" + UUID.randomUUID();
    }

    private static String stored(String key) {
        return RedisKeys.DEFAULT.lock(key);
    }

    @Test
    void anEmptyListOfMastersIsRefused() {
        assertThatThrownBy(() -> RedlockDlm.create(List.of(), OPTIONS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("masters");
    }

    @Test
    void theSameClientTwiceIsRefused() {
        List<RedisClient> twice = List.of(clients.get(0), clients.get(1), clients.get(0));
        assertThatThrownBy(() -> RedlockDlm.create(twice, OPTIONS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("masters");
    }

    @Test
    void nullsAreRefusedByName() {
        assertThatThrownBy(() -> RedlockDlm.create(null, OPTIONS))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("masters");
        assertThatThrownBy(() -> RedlockDlm.create(Arrays.asList(clients.get(0), null, clients.get(1)), OPTIONS))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("masters");
        assertThatThrownBy(() -> RedlockDlm.create(clients.subList(0, 3), null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("options");
    }

    /** Four masters need three, like five: an even N tolerates no more failures than N - 1. */
    @Test
    void fourMastersNeedThree() {
        List<RedisServer> four = IntStream.range(0, 4).mapToObj(i -> RedisServer.start()).toList();
        List<RedisClient> fourClients = four.stream().map(s -> RedisClient.create(s.uri())).toList();
        try (Dlm alice = RedlockDlm.create(fourClients, OPTIONS);
             Dlm bob = RedlockDlm.create(fourClients, DlmOptions.builder().defaultOwner("bob")
                     .operationTimeout(Duration.ofSeconds(2)).build())) {
            alice.ping();
            bob.ping();
            String key = key("four");
            Mutex mutex = alice.newMutex(key, Duration.ofSeconds(2));

            four.get(0).kill();
            Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("3 of 4 masters answer"));
            assertThat(bob.newMutex(key).holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("alice"));
            lease.close();

            four.get(1).kill();
            for (int attempt = 0; attempt < 3; attempt++) {
                Optional<Lease> none;
                try {
                    none = mutex.tryLock();
                } catch (LockBackendException e) {
                    none = Optional.empty();
                }
                assertThat(none).as("2 of 4 masters alive, attempt %d", attempt).isEmpty();
            }
            assertThat(four.get(2).command("GET", stored(key))).isNull();
            assertThat(four.get(3).command("GET", stored(key))).isNull();


            // with all four back, two of them holding one owner's lock are not a majority either
            four.get(0).restart();
            four.get(1).restart();
            try (Dlm carol = RedlockDlm.create(fourClients, OPTIONS)) {
                String other = key("four-half");
                four.get(2).command("SET", stored(other), "7:bob", "PX", "10000");
                four.get(3).command("SET", stored(other), "7:bob", "PX", "10000");
                assertThat(carol.newMutex(other).holder()).as("bob on 2 of 4 masters").isEmpty();
                four.get(1).command("SET", stored(other), "7:bob", "PX", "10000");
                assertThat(carol.newMutex(other).holder()).as("bob on 3 of 4 masters")
                        .hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("bob"));
            }
        } finally {
            fourClients.forEach(RedisClient::shutdown);
            four.forEach(RedisServer::close);
        }
    }

    @Test
    void aRedlockUriNamesItsMasters() {
        String uri = "redlock://" + servers.get(0).hostAndPort() + "," + servers.get(1).hostAndPort() + ","
                + servers.get(2).hostAndPort();
        String key = key("uri");
        try (Dlm dlm = Dlms.fromUri(uri, OPTIONS);
             Dlm bob = Dlms.fromUri(uri, DlmOptions.builder().defaultOwner("bob").build())) {
            Lease lease = dlm.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
            for (int i = 0; i < 3; i++) {
                assertThat(RedisTestSupport.withoutMark(servers.get(i).command("GET", stored(key))))
                        .isEqualTo(lease.fencingToken() + ":alice");
            }
            assertThat(servers.get(3).command("GET", stored(key))).as("not in the URI").isNull();
            assertThat(bob.newMutex(key).tryLock()).isEmpty();
            lease.close();
            assertThat(bob.newMutex(key).tryLock()).isPresent();
        }
    }

    @Test
    void aRedlockUriNamingAMasterTwiceIsRefusedNamingIt() {
        String twice = servers.get(1).hostAndPort();
        String uri = "redlock://" + servers.get(0).hostAndPort() + "," + twice + "," + twice;
        assertThatThrownBy(() -> Dlms.fromUri(uri, OPTIONS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(twice);
    }

    @Test
    void aRedlockUriWithOneMasterHasAQuorumOfOne() {
        String key = key("one");
        try (Dlm dlm = Dlms.fromUri("redlock://" + servers.get(3).hostAndPort(), OPTIONS)) {
            Lease lease = dlm.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
            assertThat(RedisTestSupport.withoutMark(servers.get(3).command("GET", stored(key)))).isEqualTo(lease.fencingToken() + ":alice");
            assertThat(dlm.newMutex(key).holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("alice"));
            lease.close();
            assertThat(servers.get(3).command("GET", stored(key))).isNull();
        }
    }

    @Test
    void closingTheDlmLeavesTheUsersClientsUsable() {
        List<RedisClient> three = clients.subList(0, 3);
        String key = key("close");
        Dlm dlm = RedlockDlm.create(three, OPTIONS);
        Lease lease = dlm.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
        dlm.close();
        assertThat(lease.isValid()).isFalse();
        for (int i = 0; i < 3; i++) {
            assertThat(RedisTestSupport.withoutMark(servers.get(i).command("GET", stored(key)))).as("released on close").isNull();
            try (StatefulRedisConnection<String, String> connection = three.get(i).connect()) {
                assertThat(connection.sync().ping()).isEqualTo("PONG");
            }
        }
        try (Dlm again = RedlockDlm.create(three, OPTIONS)) {
            assertThat(again.newMutex(key).tryLock()).isPresent();
        }
    }
}
