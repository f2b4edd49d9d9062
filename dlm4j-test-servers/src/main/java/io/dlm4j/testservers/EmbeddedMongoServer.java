package io.dlm4j.testservers;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.net.InetSocketAddress;

/**
 * An in-process server that speaks the MongoDB wire protocol ({@code de.bwaldvogel:mongo-java-server}),
 * on a free loopback port. Tests and the demo use it because no {@code mongod} package can be
 * installed here; the MongoDB backend uses only commands whose meaning is the same on a real mongod.
 * It does not run TTL indexes, so tests delete expired documents by hand where cleanup matters.
 */
public final class EmbeddedMongoServer implements AutoCloseable {

    private final MongoServer server;
    private final InetSocketAddress address;

    private EmbeddedMongoServer(MongoServer server, InetSocketAddress address) {
        this.server = server;
        this.address = address;
    }

    public static EmbeddedMongoServer start() {
        MongoServer server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        return new EmbeddedMongoServer(server, server.getLocalAddress());
    }

    /** {@code host:port}. */
    public String hostAndPort() {
        return address.getHostString() + ":" + address.getPort();
    }

    /** {@code mongodb://host:port}, without a database. */
    public String connectionString() {
        return "mongodb://" + hostAndPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
