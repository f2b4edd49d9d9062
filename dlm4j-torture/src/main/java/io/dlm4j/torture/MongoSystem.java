package io.dlm4j.torture;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.util.List;
import java.util.Random;

/**
 * The in-process MongoDB wire-protocol server (no mongod can be installed here). A "restart" shuts
 * it down and binds a fresh in-memory one to the same port: every document is lost, fence counters
 * too, which a mongod with its journal would keep. It cannot be paused: it runs in the harness's own
 * JVM, and SIGSTOP would stop the harness. Its network can be faulted all the same: the workers
 * are other processes and reach it through a loopback proxy.
 */
final class MongoSystem implements SystemUnderTest {

    private MongoServer server;
    private final int port;
    private final LoopbackProxy proxy;

    MongoSystem() {
        server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        port = server.getLocalAddress().getPort();
        try {
            proxy = LoopbackProxy.start(port);
        } catch (RuntimeException e) {
            server.shutdownNow();
            throw e;
        }
    }

    @Override
    public String name() {
        return "mongo";
    }

    @Override
    public String uri() {
        // one host and no replica set: the driver talks to that address only, so the proxy stays in the path
        return "mongodb://" + proxy.hostAndPort() + "/torture?collection=locks";
    }

    @Override
    public List<LoopbackProxy> proxies() {
        return List.of(proxy);
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
        proxy.close();
        server.shutdownNow();
    }
}
