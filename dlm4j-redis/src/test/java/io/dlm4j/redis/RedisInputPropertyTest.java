package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on one real Redis server: key escaping in {@link RedisKeys}, owners in the stored value. */
@WithRedis
class RedisInputPropertyTest extends InputPropertySuite {

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

}
