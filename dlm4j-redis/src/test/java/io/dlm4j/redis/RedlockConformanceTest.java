package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;
import java.util.List;

/** The whole contract on Redlock over three real Redis masters. */
@WithRedis(count = 3, own = true)
class RedlockConformanceTest extends ConformanceSuite {

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

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return RedlockDlm.create(clients, options);
    }

    @Override
    protected boolean notifiesWaitersOnRelease() {
        return true;
    }

    @Override
    protected Duration validityAllowance(Duration ttl) {
        return Duration.ofMillis(ttl.toMillis() / 100 + 2);
    }

    @Override
    protected void deleteStoredRecord(String key) {
        servers.forEach(s -> s.command("DEL", RedisKeys.DEFAULT.lock(key)));
    }

    /** Freezes a majority (two of the three masters): no quorum answers, though one master does. */
    @Override
    protected void freezeBackend() {
        servers.get(0).pause();
        servers.get(1).pause();
    }

    @Override
    protected void thawBackend() {
        servers.forEach(RedisServer::resume);
    }
}
