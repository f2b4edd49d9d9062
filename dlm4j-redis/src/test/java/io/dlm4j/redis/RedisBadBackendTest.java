package io.dlm4j.redis;

import io.dlm4j.testkit.BadBackendSuite;
import io.dlm4j.testservers.RedisServer;

import java.util.List;

/** A Redis that is down, hung, frozen or not Redis at all, through {@code redis://}. */
class RedisBadBackendTest extends BadBackendSuite {

    @Override
    protected String uri(List<String> hostPorts) {
        return "redis://" + hostPorts.get(0);
    }

    @Override
    protected String backendName() {
        return "Redis";
    }

    @Override
    protected FreezableServers startFreezableServers() {
        RedisServer server = RedisServer.start();
        return new FreezableServers() {
            @Override
            public List<String> hostPorts() {
                return List.of(server.hostAndPort());
            }

            @Override
            public void freeze() {
                server.pause();
            }

            @Override
            public void thaw() {
                server.resume();
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }
}
