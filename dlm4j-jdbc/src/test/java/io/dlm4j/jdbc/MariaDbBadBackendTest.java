package io.dlm4j.jdbc;

import io.dlm4j.testkit.BadBackendSuite;
import io.dlm4j.testservers.MariaDbServer;

import java.util.List;

/** Closed ports, silent and garbage servers, and a frozen MariaDB: every operation fails in time, naming the server. */
class MariaDbBadBackendTest extends BadBackendSuite {

    private String password = "unused";

    @Override
    protected String uri(List<String> hostPorts) {
        return "jdbc:mariadb://" + hostPorts.get(0) + "/test?user=root&password=" + password;
    }

    @Override
    protected String backendName() {
        return "MariaDB";
    }

    @Override
    protected FreezableServers startFreezableServers() {
        MariaDbServer server = MariaDbServer.start();
        password = server.password();
        return new FrozenDatabase(server.host() + ":" + server.port(), server::pause, server::resume, server);
    }
}
