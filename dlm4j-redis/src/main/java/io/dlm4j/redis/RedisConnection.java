package io.dlm4j.redis;

import io.dlm4j.spi.Replies;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A node's connections to one Redis server: the command connection, made on first use and waited
 * for at most the operation timeout, and the pub/sub connection of its {@link RedisReleaseNotices};
 * and the address that every failure names. Both connections come from one client, which is shut
 * down after them if the node made it.
 */
final class RedisConnection implements AutoCloseable {

    private static final ExecutorService CONNECTOR = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "dlm4j-redis-connect");
        thread.setDaemon(true);
        return thread;
    });

    private final RedisClient client;
    private final boolean ownsClient;
    private final Duration timeout;
    private final RedisReleaseNotices releaseNotices;
    private volatile String address;
    /**
     * Guards {@link #connecting}, {@link #closed} and the setting of {@link #connection}. Held only
     * briefly and never across I/O (the connect and its wait happen outside it), but a j.u.c lock
     * rather than a monitor all the same, so that a virtual thread that meets it contended parks
     * without pinning its carrier (the same as in RedisReleaseNotices).
     */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile StatefulRedisConnection<String, String> connection;
    private CompletableFuture<StatefulRedisConnection<String, String>> connecting;
    private boolean closed;

    /**
     * @param address the server's address if known ({@code host:port}); otherwise it is read from
     *                the server once connected
     */
    RedisConnection(RedisClient client, boolean ownsClient, Duration timeout, String address) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.timeout = timeout;
        this.address = address != null ? address : ClientAddress.of(client);
        this.releaseNotices = new RedisReleaseNotices(client, timeout, this::address);
    }

    String address() {
        return address == null ? "(address not known before the first connection)" : address;
    }

    Duration timeout() {
        return timeout;
    }

    RedisReleaseNotices releaseNotices() {
        return releaseNotices;
    }

    boolean isConnected() {
        return connection != null;
    }

    /**
     * The connection's commands, connecting first if need be: the connection is made on a
     * connector thread and awaited at most the operation timeout, so that a server that accepts
     * but never answers (a stopped process) holds a caller neither for the client library's own
     * connect timeout nor behind another caller.
     */
    RedisAsyncCommands<String, String> commands() {
        StatefulRedisConnection<String, String> current = connection;
        if (current != null) {
            return current.async();
        }
        CompletableFuture<StatefulRedisConnection<String, String>> attempt;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the connection to Redis at " + address() + " is closed");
            }
            if (connecting == null || connecting.isCompletedExceptionally()) {
                connecting = CompletableFuture.supplyAsync(this::open, CONNECTOR);
            }
            attempt = connecting;
        } finally {
            lock.unlock();
        }
        return Replies.await(attempt, timeout, "Redis").async(); // waited for outside the lock
    }

    private StatefulRedisConnection<String, String> open() {
        StatefulRedisConnection<String, String> created = client.connect();
        created.setTimeout(timeout);
        if (address == null) {
            address = serverAddress(created);
        }
        EvictionPolicyCheck.start(created, address()); // sent before any lock command, not waited for
        lock.lock();
        try {
            if (closed) {
                created.closeAsync();
                throw new IllegalStateException("closed while connecting to Redis at " + address());
            }
            connection = created;
        } finally {
            lock.unlock();
        }
        return created;
    }

    /** The address this connection reached, as the server saw it ({@code laddr} of CLIENT INFO). */
    private static String serverAddress(StatefulRedisConnection<String, String> created) {
        try {
            for (String field : created.sync().clientInfo().trim().split(" ")) {
                if (field.startsWith("laddr=")) {
                    return field.substring("laddr=".length());
                }
            }
        } catch (RuntimeException e) {
            // CLIENT INFO needs Redis 6.2; older servers are named by the client library's messages
        }
        return null;
    }

    /** Closes both connections, and the client if this node made it. */
    @Override
    public void close() {
        StatefulRedisConnection<String, String> open;
        lock.lock();
        try {
            closed = true;
            open = connection;
            connection = null;
        } finally {
            lock.unlock();
        }
        releaseNotices.close();
        if (open != null) {
            open.close();
        }
        if (ownsClient) {
            client.shutdown();
        }
    }
}
