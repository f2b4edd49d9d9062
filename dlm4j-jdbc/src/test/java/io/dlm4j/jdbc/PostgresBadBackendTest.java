package io.dlm4j.jdbc;

import io.dlm4j.testkit.BadBackendSuite;
import io.dlm4j.testservers.PostgresServer;

import java.util.List;

/** Closed ports, silent and garbage servers, and a frozen PostgreSQL: every operation fails in time, naming the server. */
class PostgresBadBackendTest extends BadBackendSuite {

    private String password = "unused";

    @Override
    protected String uri(List<String> hostPorts) {
        return "jdbc:postgresql://" + hostPorts.get(0) + "/postgres?user=postgres&password=" + password;
    }

    @Override
    protected String backendName() {
        return "PostgreSQL";
    }

    @Override
    protected FreezableServers startFreezableServers() {
        PostgresServer server = PostgresServer.start();
        password = server.password();
        return new FrozenDatabase(server.host() + ":" + server.port(), server::pause, server::resume, server);
    }
}
