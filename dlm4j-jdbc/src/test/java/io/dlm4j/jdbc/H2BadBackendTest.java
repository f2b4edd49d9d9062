package io.dlm4j.jdbc;

import io.dlm4j.testkit.BadBackendSuite;

import java.util.List;

/**
 * Closed ports, silent and garbage servers behind an H2 TCP URL ({@code jdbc:h2:tcp://}): every
 * operation fails in time, naming the server. H2's own server is not frozen here (it runs in a JVM
 * of its own only in production), so the frozen case is the silent socket's.
 */
class H2BadBackendTest extends BadBackendSuite {

    @Override
    protected String uri(List<String> hostPorts) {
        return "jdbc:h2:tcp://" + hostPorts.get(0) + "/mem:bad;USER=sa;PASSWORD=unused";
    }

    @Override
    protected String backendName() {
        return "H2";
    }
}
