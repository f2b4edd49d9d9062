package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The whole contract on one real Redis server. */
@WithRedis(own = true)
class RedisConformanceTest extends ConformanceSuite {

    private static RedisServer server;
    private static RedisClient client;

    @BeforeAll
    static void startServer(RedisServer shared) {
        server = shared;
        client = RedisClient.create(server.uri());
    }

    @AfterAll
    static void stopServer() {
        client.shutdown();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return RedisDlm.create(client, options);
    }

    @Override
    protected boolean notifiesWaitersOnRelease() {
        return true;
    }

    @Override
    protected void deleteStoredRecord(String key) {
        server.command("DEL", RedisKeys.DEFAULT.lock(key));
    }

    @Override
    protected void freezeBackend() {
        server.pause(); // SIGSTOP: connections stay open, nothing answers
    }

    @Override
    protected void thawBackend() {
        server.resume();
    }
}
