package io.dlm4j.redis;

import io.dlm4j.testkit.BadBackendSuite;
import io.dlm4j.testservers.RedisServer;

import java.util.List;

/**
 * Redlock whose three masters are all down, hung, frozen or not Redis, through {@code redlock://}.
 * (One hung master among healthy ones is RedlockFaultTest's.)
 */
class RedlockBadBackendTest extends BadBackendSuite {

    @Override
    protected String uri(List<String> hostPorts) {
        return "redlock://" + String.join(",", hostPorts);
    }

    @Override
    protected String backendName() {
        return "Redlock";
    }

    @Override
    protected int serversPerDlm() {
        return 3;
    }

    @Override
    protected FreezableServers startFreezableServers() {
        List<RedisServer> servers = List.of(RedisServer.start(), RedisServer.start(), RedisServer.start());
        return new FreezableServers() {
            @Override
            public List<String> hostPorts() {
                return servers.stream().map(RedisServer::hostAndPort).toList();
            }

            @Override
            public void freeze() {
                servers.forEach(RedisServer::pause);
            }

            @Override
            public void thaw() {
                servers.forEach(RedisServer::resume);
            }

            @Override
            public void close() {
                servers.forEach(RedisServer::close);
            }
        };
    }
}
