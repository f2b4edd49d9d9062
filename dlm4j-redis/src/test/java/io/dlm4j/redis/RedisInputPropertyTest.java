package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on one real Redis server: key escaping in {@link RedisKeys}, owners in the stored value. */
class RedisInputPropertyTest extends InputPropertySuite {

    private static RedisServer server;
    private static RedisClient client;

    @BeforeAll
    static void startServer() {
        server = RedisServer.start();
        client = RedisClient.create(server.uri());
    }

    @AfterAll
    static void stopServer() {
        client.shutdown();
        server.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return RedisDlm.create(client, options);
    }

    @Override
    protected String unpairedSurrogatesKnownBug() {
        return "bug: Lettuce writes an unpaired surrogate as '?', so \"s\\uD800\" and \"s?\" are one lock and owners \"o\\uD800\" and \"o?\" one holder; "
                + "a key ending in an unpaired high surrogate made the first acquire time out (see NOTES.md)";
    }
}
