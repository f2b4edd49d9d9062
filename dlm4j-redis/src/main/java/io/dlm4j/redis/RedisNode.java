package io.dlm4j.redis;

import io.dlm4j.spi.Replies;
import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One Redis server and the lock operations on it, each one Lua script and so one round trip. The
 * stores build on it: {@link RedisLockStore} on one node, {@link RedlockLockStore} on a quorum.
 * Expiry is Redis's own (PX, PEXPIRE, PTTL): the client's clock never enters.
 */
final class RedisNode implements AutoCloseable {

    /** KEYS: lock, fence. ARGV: owner, ttl ms. Reply: outcome (0 held, 1 refreshed, 2 acquired), token, ms left, owner, fence. */
    private static final LuaScript ACQUIRE = new LuaScript("""
            local current = redis.call('GET', KEYS[1])
            if current then
              local sep = string.find(current, ':', 1, true)
              local token = string.sub(current, 1, sep - 1)
              local owner = string.sub(current, sep + 1)
              local fence = redis.call('GET', KEYS[2]) or token
              if owner == ARGV[1] then
                redis.call('PEXPIRE', KEYS[1], ARGV[2])
                return {1, token, tonumber(ARGV[2]), owner, fence}
              end
              return {0, token, redis.call('PTTL', KEYS[1]), owner, fence}
            end
            local token = redis.call('INCR', KEYS[2])
            redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
            return {2, token, tonumber(ARGV[2]), ARGV[1], token}
            """);

    /**
     * KEYS: locks. ARGV: owner and ttl ms of each lock in turn. Reply per lock: 1 if extended, 0
     * if that owner does not hold it. A single refresh is a batch of one. The locks lie in different hash slots: fine on one server, which is all
     * this store runs on; Redis Cluster would refuse it.
     */
    private static final LuaScript REFRESH_MANY = new LuaScript("""
            local held = {}
            for i, lock in ipairs(KEYS) do
              local current = redis.call('GET', lock)
              local owner = ARGV[2 * i - 1]
              if current and string.sub(current, string.find(current, ':', 1, true) + 1) == owner then
                redis.call('PEXPIRE', lock, ARGV[2 * i])
                held[i] = 1
              else
                held[i] = 0
              end
            end
            return held
            """);

    /** KEYS: lock. ARGV: owner, release channel. Deletes and wakes the waiters only if this owner holds it. */
    private static final LuaScript RELEASE = new LuaScript("""
            local current = redis.call('GET', KEYS[1])
            if current and string.sub(current, string.find(current, ':', 1, true) + 1) == ARGV[1] then
              redis.call('DEL', KEYS[1])
              redis.call('PUBLISH', ARGV[2], KEYS[1])
              return {1}
            end
            return {0}
            """);

    /** KEYS: lock. Reply: {} if free, else {value, ms left}. */
    private static final LuaScript READ = new LuaScript("""
            local current = redis.call('GET', KEYS[1])
            if current then
              return {current, redis.call('PTTL', KEYS[1])}
            end
            return {}
            """);

    /**
     * KEYS: lock, fence. ARGV: owner, token. Records a Redlock token on this server while the owner
     * still holds the lock here: the stored token becomes it, and the fence counter at least it.
     */
    private static final LuaScript RECORD_TOKEN = new LuaScript("""
            local current = redis.call('GET', KEYS[1])
            if not current or string.sub(current, string.find(current, ':', 1, true) + 1) ~= ARGV[1] then
              return {0}
            end
            if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
              redis.call('SET', KEYS[2], ARGV[2])
            end
            redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[1], 'KEEPTTL')
            return {1}
            """);

    private static final ExecutorService CONNECTOR = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "dlm4j-redis-connect");
        thread.setDaemon(true);
        return thread;
    });

    private final RedisClient client;
    private final boolean ownsClient;
    private final Duration timeout;
    private final ReleaseChannel releases;
    private volatile String address;
    /**
     * Guards {@link #connecting}, {@link #closed}, {@link #dispatcher} and the setting of
     * {@link #connection}. Held only briefly and never across I/O (the connect and its wait happen
     * outside it), but a j.u.c lock rather than a monitor all the same, so that a virtual thread that
     * meets it contended parks without pinning its carrier (the same as in ReleaseChannel).
     */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile StatefulRedisConnection<String, String> connection;
    private CompletableFuture<StatefulRedisConnection<String, String>> connecting;
    private boolean closed;
    private ExecutorService dispatcher;
    /** Operations handed to the dispatcher and not yet sent. */
    private final AtomicInteger queued = new AtomicInteger();

    /**
     * @param address the server's address if known ({@code host:port}); otherwise it is read from
     *                the server once connected
     */
    RedisNode(RedisClient client, boolean ownsClient, Duration timeout, String address) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.timeout = timeout;
        this.address = address != null ? address : ClientAddress.of(client);
        this.releases = new ReleaseChannel(client, timeout, this::address);
    }

    String address() {
        return address == null ? "(address not known before the first connection)" : address;
    }

    Duration timeout() {
        return timeout;
    }

    /**
     * Runs {@code operation} in the order of the calls, so that a release can never overtake the
     * acquire before it while the node is still connecting. While it connects (which may block on
     * a hung server), operations wait on this node's own dispatch thread, blocking only this
     * node's queue, and one whose caller gave up before its turn is not sent at all. Once connected
     * and with nothing queued, the operation goes out from the calling thread: Lettuce keeps the
     * order of commands on one connection, and a thread hop per master would cost more than the
     * round trip.
     */
    <T> CompletableFuture<T> inOrder(Function<RedisNode, CompletableFuture<T>> operation) {
        if (connection != null && queued.get() == 0) {
            try {
                return operation.apply(this);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        queued.incrementAndGet();
        try {
            dispatcher().execute(() -> {
                try {
                    if (!result.isDone()) {
                        operation.apply(this).whenComplete((value, failure) -> {
                            if (failure != null) {
                                result.completeExceptionally(failure);
                            } else {
                                result.complete(value);
                            }
                        });
                    }
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                } finally {
                    queued.decrementAndGet(); // only once sent: a later call must not overtake it
                }
            });
        } catch (RuntimeException e) {
            queued.decrementAndGet();
            result.completeExceptionally(e);
        }
        return result;
    }

    /** Connects in the background, if not connected yet; the future completes once connected. */
    CompletableFuture<Void> connectInBackground() {
        return inOrder(node -> {
            node.redis();
            return CompletableFuture.completedFuture(null);
        });
    }

    private ExecutorService dispatcher() {
        lock.lock();
        try {
            if (dispatcher == null) {
                dispatcher = Executors.newSingleThreadExecutor(runnable -> {
                    Thread thread = new Thread(runnable, "dlm4j-redis-node-" + address());
                    thread.setDaemon(true);
                    return thread;
                });
            }
            return dispatcher;
        } finally {
            lock.unlock();
        }
    }

    CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis) {
        return ACQUIRE.run(redis(), keys, owner, Long.toString(ttlMillis)).thenApply(NodeReply::parse);
    }

    /** One script for many locks: one round trip; a held flag per lock, in order. */
    CompletableFuture<List<Boolean>> refreshAll(String[] locks, String[] ownersAndTtls) {
        return REFRESH_MANY.run(redis(), locks, ownersAndTtls)
                .thenApply(reply -> reply.stream().map(flag -> NodeReply.number(flag) == 1).toList());
    }

    CompletableFuture<Boolean> release(String[] keys, String owner, String channel) {
        return RELEASE.run(redis(), keys, owner, channel).thenApply(RedisNode::isOne);
    }

    /** The stored hold: token, owner and ms left; empty if free. */
    CompletableFuture<Optional<NodeReply>> read(String[] keys) {
        return READ.run(redis(), keys).thenApply(reply -> {
            if (reply.isEmpty()) {
                return Optional.empty();
            }
            String value = String.valueOf(reply.get(0));
            int sep = value.indexOf(':');
            long token = Long.parseLong(value.substring(0, sep));
            return Optional.of(new NodeReply(io.dlm4j.spi.Acquisition.Outcome.HELD, token,
                    NodeReply.number(reply.get(1)), value.substring(sep + 1), token));
        });
    }

    CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token) {
        return RECORD_TOKEN.run(redis(), keys, owner, Long.toString(token)).thenApply(RedisNode::isOne);
    }

    Duration ping() {
        long start = System.nanoTime();
        Replies.await(redis().ping().toCompletableFuture(), timeout, "Redis");
        return Duration.ofNanos(System.nanoTime() - start);
    }

    Subscription onRelease(String channel, Runnable wake) {
        return releases.subscribe(channel, wake);
    }

    /**
     * The connection, made on a connector thread and awaited at most the operation timeout: a
     * server that accepts but never answers (a stopped process) must not hold a caller for the
     * client library's own connect timeout, nor block other callers.
     */
    private RedisAsyncCommands<String, String> redis() {
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
                connecting = CompletableFuture.supplyAsync(this::openConnection, CONNECTOR);
            }
            attempt = connecting;
        } finally {
            lock.unlock();
        }
        return Replies.await(attempt, timeout, "Redis").async(); // waited for outside the lock
    }

    private StatefulRedisConnection<String, String> openConnection() {
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
    private String serverAddress(StatefulRedisConnection<String, String> created) {
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

    private static boolean isOne(List<Object> reply) {
        return !reply.isEmpty() && NodeReply.number(reply.get(0)) == 1;
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, String> open;
        lock.lock();
        try {
            closed = true;
            if (dispatcher != null) {
                dispatcher.shutdownNow(); // does not wait for the dispatch thread
            }
            open = connection;
            connection = null;
        } finally {
            lock.unlock();
        }
        releases.close();
        if (open != null) {
            open.close();
        }
        if (ownsClient) {
            client.shutdown();
        }
    }
}
