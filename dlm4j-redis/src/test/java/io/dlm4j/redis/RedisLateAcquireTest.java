package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12 item 2 on one real Redis: an acquire that timed out on a hung server and reaches it
 * once the server answers again is undone (the undo follows it on the connection), instead of
 * blocking the lock for its whole ttl.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisLateAcquireTest {

    private static final Duration LONG_TTL = Duration.ofSeconds(60);

    private RedisServer server;
    private RedisClient client;

    @BeforeEach
    void start() {
        server = RedisServer.start();
        client = RedisClient.create(server.uri());
    }

    @AfterEach
    void stop() {
        if (server.isRunning()) {
            server.resume();
        }
        client.shutdown();
        server.close();
    }

    private Dlm dlm(String owner) {
        Dlm dlm = RedisDlm.create(client, DlmOptions.builder().defaultOwner(owner)
                .operationTimeout(Duration.ofMillis(500)).build());
        // connected, as a running application is; the first connection of a JVM may take longer
        await().atMost(Duration.ofSeconds(20)).ignoreException(LockBackendException.class)
                .until(() -> dlm.ping() != null);
        return dlm;
    }

    @Test
    void anAcquireThatTimedOutAndLandsLaterIsUndoneAndTheLockIsFreeWellBeforeItsTtl() {
        String key = "late-acquire-" + UUID.randomUUID();
        try (Dlm alice = dlm("alice"); Dlm bob = dlm("bob")) {
            Mutex late = alice.newMutex(key, LONG_TTL);
            server.pause();
            assertThatThrownBy(late::tryLock).isInstanceOf(LockBackendException.class);
            server.resume();

            // alice's read travels on her connection behind the late acquire (and the undo): it sees what they left
            assertThat(late.holder()).as("the holder once the late acquire has landed").isEmpty();
            assertThat(bob.newMutex(key, LONG_TTL).tryLock()).as("bob's tryLock right after").isPresent();
        }
    }
}
