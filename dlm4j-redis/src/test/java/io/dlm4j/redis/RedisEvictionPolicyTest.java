package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.dlm4j.redis.RedisTestSupport.newKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Dlm's first connection reads the server's {@code maxmemory-policy}: anything but
 * {@code noeviction} is a warning that names what can break; a server that refuses {@code CONFIG}
 * is logged as not checked, and the Dlm works all the same. Real servers, one per policy.
 */
class RedisEvictionPolicyTest {

    /** The check's logger; named, not taken from the class, so that this test also compiles without it. */
    private static final String CHECK = "io.dlm4j.redis.EvictionPolicyCheck";

    private static DlmOptions options() {
        // generous: in a new JVM the first connection also loads the client library
        return DlmOptions.builder().defaultOwner("checker").operationTimeout(Duration.ofSeconds(10)).build();
    }

    /** Makes a Dlm on {@code uri}, takes and releases a lock (the first connection), returns the check's lines. */
    private static List<String> checkLines(RedisServer server, RedisURI uri, String level, CapturedLog log) {
        RedisClient client = RedisClient.create(uri);
        try (Dlm dlm = RedisDlm.create(client, options())) {
            dlm.newMutex(newKey("eviction")).tryLock().orElseThrow().close();
            await().atMost(Duration.ofSeconds(10)).until(() -> !ownLines(log, server).isEmpty());
            return log.lines(level, CHECK).stream().filter(line -> line.contains(server.hostAndPort())).toList();
        } finally {
            client.shutdown();
        }
    }

    private static List<String> ownLines(CapturedLog log, RedisServer server) {
        return List.of("WARN", "INFO", "DEBUG").stream().flatMap(level -> log.lines(level, CHECK).stream())
                .filter(line -> line.contains(server.hostAndPort())).toList();
    }

    private static List<String> checkLines(String policy, String level) {
        try (RedisServer server = RedisServer.start(RedisServer.Options.builder()
                .extraArgs("--maxmemory", "64mb", "--maxmemory-policy", policy).build());
             CapturedLog log = CapturedLog.start()) {
            return checkLines(server, RedisURI.create(server.uri()), level, log);
        }
    }

    @Test
    void allkeysLruWarnsThatFenceCountersCanBeEvictedAndTokensRepeat() {
        assertThat(checkLines("allkeys-lru", "WARN")).singleElement().satisfies(line -> assertThat(line)
                .contains("maxmemory-policy is allkeys-lru").contains("fence counter").contains("tokens repeat")
                .contains("noeviction"));
    }

    @Test
    void volatileLruWarnsThatHeldLocksCanBeEvictedAndTwoOwnersHoldAtOnce() {
        assertThat(checkLines("volatile-lru", "WARN")).singleElement().satisfies(line -> assertThat(line)
                .contains("maxmemory-policy is volatile-lru").contains("held lock").contains("second owner")
                .contains("noeviction"));
    }

    @Test
    void noevictionIsNotAWarning() {
        try (RedisServer server = RedisServer.start(RedisServer.Options.builder()
                .extraArgs("--maxmemory-policy", "noeviction").build());
             CapturedLog log = CapturedLog.start()) {
            List<String> debug = checkLines(server, RedisURI.create(server.uri()), "DEBUG", log);
            assertThat(debug).singleElement().satisfies(line -> assertThat(line).contains("is noeviction"));
            assertThat(ownLines(log, server)).as("every line of the check").hasSize(1);
        }
    }

    @Test
    void aUserRefusedConfigIsToldItCouldNotBeCheckedAndTheDlmWorks() {
        try (RedisServer server = RedisServer.start(RedisServer.Options.builder()
                .extraArgs("--maxmemory-policy", "allkeys-lru").build());
             CapturedLog log = CapturedLog.start()) {
            assertThat(server.command("ACL", "SETUSER", "app", "on", ">app-secret", "~*", "allchannels", "+@all",
                    "-config")).isEqualTo("+OK");
            RedisURI asApp = RedisURI.builder().withHost(server.host()).withPort(server.port())
                    .withAuthentication("app", "app-secret".toCharArray()).build();
            List<String> info = checkLines(server, asApp, "INFO", log);
            assertThat(info).singleElement().satisfies(line -> assertThat(line)
                    .contains("could not check maxmemory-policy").contains("NOPERM").doesNotContain("app-secret"));
            assertThat(ownLines(log, server)).as("every line of the check").hasSize(1);
        }
    }
}
