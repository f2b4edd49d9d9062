package io.dlm4j.jdbc;

import io.dlm4j.testkit.BadBackendSuite;

import java.util.List;

/** A database test server as {@link BadBackendSuite} freezes it: SIGSTOP of the whole server and back. */
final class FrozenDatabase implements BadBackendSuite.FreezableServers {

    private final String hostPort;
    private final Runnable freeze;
    private final Runnable thaw;
    private final AutoCloseable server;

    FrozenDatabase(String hostPort, Runnable freeze, Runnable thaw, AutoCloseable server) {
        this.hostPort = hostPort;
        this.freeze = freeze;
        this.thaw = thaw;
        this.server = server;
    }

    @Override
    public List<String> hostPorts() {
        return List.of(hostPort);
    }

    @Override
    public void freeze() {
        freeze.run();
    }

    @Override
    public void thaw() {
        thaw.run();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
