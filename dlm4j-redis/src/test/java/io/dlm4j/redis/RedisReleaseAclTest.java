package io.dlm4j.redis;

import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12 item 9: an ACL user without rights on the release channels gets NOPERM on the release's
 * PUBLISH; the hold is gone by then, and the release must say so.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisReleaseAclTest {

    /** Long: the first connection of a fresh JVM loads the client library. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private RedisServer server;
    private RedisClient client;
    private RedisLockStore store;

    @BeforeEach
    void start() {
        server = RedisServer.start();
        // every key and command, no channel: PUBLISH is refused with NOPERM
        assertThat(server.command("ACL", "SETUSER", "nochannels", "on", ">test-only-password", "~*", "+@all",
                "resetchannels")).isEqualTo("+OK");
        client = RedisClient.create(RedisURI.builder().withHost(server.host()).withPort(server.port())
                .withAuthentication("nochannels", "test-only-password".toCharArray()).build());
        store = new RedisLockStore(new RedisNode(client, false, TIMEOUT, server.hostAndPort()),
                new RedisKeys(RedisKeys.DEFAULT_PREFIX));
    }

    @AfterEach
    void stop() {
        store.close();
        client.shutdown();
        server.close();
    }

    @Test
    void aReleaseWhosePublishIsRefusedReportsTheReleaseThatHappened() {
        String key = "acl-release-" + UUID.randomUUID();
        assertThat(store.acquire(key, "O", Duration.ofSeconds(30)).isOurs()).isTrue();

        assertThat(store.release(key, "O")).as("release by a user without channel rights").isTrue();

        assertThat(server.command("EXISTS", RedisKeys.DEFAULT.lock(key))).isEqualTo(":0");
        assertThat(store.release(key, "O")).as("a second release: nothing held").isFalse();
    }
}
