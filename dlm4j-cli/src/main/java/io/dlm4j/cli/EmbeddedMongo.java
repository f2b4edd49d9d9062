package io.dlm4j.cli;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.net.InetSocketAddress;

/**
 * An in-process server that speaks the MongoDB wire protocol (de.bwaldvogel:mongo-java-server),
 * in memory, on a free loopback port: the demo's backend when no --uri is given.
 */
final class EmbeddedMongo implements AutoCloseable {

    private final MongoServer server;
    private final InetSocketAddress address;

    private EmbeddedMongo(MongoServer server) {
        this.server = server;
        this.address = server.getLocalAddress();
    }

    static EmbeddedMongo start() {
        MongoServer server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        return new EmbeddedMongo(server);
    }

    String hostAndPort() {
        return address.getHostString() + ":" + address.getPort();
    }

    /** {@code mongodb://host:port}, without a database. */
    String connectionString() {
        return "mongodb://" + hostAndPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
