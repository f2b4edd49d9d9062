package io.dlm4j.torture;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.util.List;
import java.util.Random;

/**
 * The in-process MongoDB wire-protocol server (no mongod can be installed here). A "restart" shuts
 * it down and binds a fresh in-memory one to the same port: every document is lost, fence counters
 * too, which a mongod with its journal would keep. It cannot be paused: it runs in the harness's own
 * JVM, and SIGSTOP would stop the harness.
 */
final class MongoSystem implements SystemUnderTest {

    private MongoServer server;
    private final int port;

    MongoSystem() {
        server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        port = server.getLocalAddress().getPort();
    }

    @Override
    public String name() {
        return "mongo";
    }

    @Override
    public String uri() {
        return "mongodb://127.0.0.1:" + port + "/torture?collection=locks";
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.KILL_RESTART_SERVER);
    }

    @Override
    public synchronized Heal inject(Fault fault, Random random) {
        if (fault != Fault.KILL_RESTART_SERVER) {
            throw new IllegalArgumentException("fault " + fault.label() + " does not apply to mongo");
        }
        server.shutdownNow();
        return this::restart;
    }

    private synchronized void restart() {
        server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", port);
    }

    @Override
    public synchronized void close() {
        server.shutdownNow();
    }
}
