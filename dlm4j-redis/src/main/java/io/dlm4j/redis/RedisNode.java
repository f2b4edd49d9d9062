package io.dlm4j.redis;

import io.dlm4j.spi.Replies;
import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One Redis server and the lock operations on it, each one Lua script and so one round trip. The
 * stores build on it: {@link RedisLockStore} on one node, {@link RedlockLockStore} on a quorum.
 * Expiry is Redis's own (PX, PEXPIRE, PTTL): the client's clock never enters.
 */
final class RedisNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisNode.class);

    /**
     * Lua: {@code extend(lock, ttl)} gives the lock at least {@code ttl} ms and returns the ms it now
     * has left: a relock or refresh never shortens a hold (another lease of the owner may count on
     * the longer expiry). A PTTL of -1 (no expiry, set by hand) is given the ttl.
     */
    private static final String LUA_EXTEND = """
            local function extend(lock, ttl)
              local left = redis.call('PTTL', lock)
              if left < ttl then
                redis.call('PEXPIRE', lock, ttl)
                return ttl
              end
              return left
            end
            """;

    /**
     * KEYS: lock, fence. ARGV: owner, ttl ms, attempt ('' for none). Reply: outcome (0 held, 1
     * refreshed, 2 acquired), token, ms left, owner, fence. A new hold is marked with the attempt;
     * the owner's relock clears the mark, so that the attempt that made the hold can no longer undo it.
     */
    private static final LuaScript ACQUIRE = script("""
            local current = redis.call('GET', KEYS[1])
            if current then
              local token, mark, owner = parse_hold(current)
              local fence = redis.call('GET', KEYS[2]) or token
              if owner == ARGV[1] then
                if mark then
                  redis.call('SET', KEYS[1], format_hold(token, nil, owner), 'KEEPTTL')
                end
                return {1, token, extend(KEYS[1], tonumber(ARGV[2])), owner, fence}
              end
              return {0, token, redis.call('PTTL', KEYS[1]), owner, fence}
            end
            local token = redis.call('INCR', KEYS[2])
            redis.call('SET', KEYS[1], format_hold(token, ARGV[3], ARGV[1]), 'PX', ARGV[2])
            return {2, token, tonumber(ARGV[2]), ARGV[1], token}
            """);

    /**
     * KEYS: locks. ARGV: owner and ttl ms of each lock in turn. Reply per lock: the ms it has left
     * once extended (never less than before), 0 if that owner does not hold it. A refresh clears an
     * attempt's mark as a relock does. A single refresh is a batch of one. The locks lie in
     * different hash slots: fine on one server, which is all this store runs on; Redis Cluster
     * would refuse it.
     */
    private static final LuaScript REFRESH_MANY = script("""
            local left = {}
            for i, lock in ipairs(KEYS) do
              left[i] = 0
              local current = redis.call('GET', lock)
              if current then
                local token, mark, owner = parse_hold(current)
                if owner == ARGV[2 * i - 1] then
                  if mark then
                    redis.call('SET', lock, format_hold(token, nil, owner), 'KEEPTTL')
                  end
                  left[i] = extend(lock, tonumber(ARGV[2 * i]))
                end
              end
            end
            return left
            """);

    /**
     * Lua: {@code wake_waiters(channel, lock)} publishes the release and returns 1, or 0 and the
     * server's error if the PUBLISH was refused (an ACL user without rights on the channel gets
     * NOPERM). The hold is gone by then: the refusal must not turn a release into a failure.
     */
    private static final String LUA_WAKE = """
            local function wake_waiters(channel, lock)
              local published = redis.pcall('PUBLISH', channel, lock)
              if type(published) == 'table' and published.err then
                return {1, 0, published.err}
              end
              return {1, 1}
            end
            """;

    /**
     * KEYS: lock. ARGV: owner, release channel. Deletes and wakes the waiters only if this owner
     * holds it. Reply: {0} if not held; {1, 1} released; {1, 0, error} released, waiters not woken.
     */
    private static final LuaScript RELEASE = script("""
            local current = redis.call('GET', KEYS[1])
            if current then
              local token, mark, owner = parse_hold(current)
              if owner == ARGV[1] then
                redis.call('DEL', KEYS[1])
                return wake_waiters(ARGV[2], KEYS[1])
              end
            end
            return {0}
            """);

    /**
     * KEYS: lock. ARGV: owner, attempt, release channel. Deletes the hold only if that attempt made
     * it and its owner has not touched it since (the mark is still there); replies as RELEASE.
     */
    private static final LuaScript UNDO = script("""
            local current = redis.call('GET', KEYS[1])
            if current then
              local token, mark, owner = parse_hold(current)
              if owner == ARGV[1] and mark == ARGV[2] then
                redis.call('DEL', KEYS[1])
                return wake_waiters(ARGV[3], KEYS[1])
              end
            end
            return {0}
            """);

    /** KEYS: lock. Reply: {} if free, else {value, ms left}. */
    private static final LuaScript READ = script("""
            local current = redis.call('GET', KEYS[1])
            if current then
              return {current, redis.call('PTTL', KEYS[1])}
            end
            return {}
            """);

    /**
     * KEYS: lock, fence. ARGV: owner, token, attempt. Records a Redlock token on this server while
     * the owner still holds the lock here: the stored token becomes it, and the fence counter at
     * least it. A copy the attempt made keeps its mark, so that the cleanup of an attempt that fails
     * after all can still remove it.
     */
    private static final LuaScript RECORD_TOKEN = script("""
            local current = redis.call('GET', KEYS[1])
            if not current then
              return {0}
            end
            local token, mark, owner = parse_hold(current)
            if owner ~= ARGV[1] then
              return {0}
            end
            if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
              redis.call('SET', KEYS[2], ARGV[2])
            end
            local kept = nil
            if mark ~= nil and mark == ARGV[3] then
              kept = mark
            end
            redis.call('SET', KEYS[1], format_hold(ARGV[2], kept, owner), 'KEEPTTL')
            return {1}
            """);

    private static LuaScript script(String body) {
        return new LuaScript(HoldValue.LUA_FUNCTIONS + LUA_EXTEND + LUA_WAKE + body);
    }

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
    private final AtomicBoolean publishRefusalLogged = new AtomicBoolean();

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
        return inOrder(operation, false);
    }

    /**
     * As {@link #inOrder(Function)}; a {@code cleanup} (a release, an undo) is sent even if its
     * caller gave up before its turn: an acquire ahead of it may have been on its way already when
     * its own caller gave up, and it must not be left behind.
     */
    <T> CompletableFuture<T> inOrder(Function<RedisNode, CompletableFuture<T>> operation, boolean cleanup) {
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
                    if (cleanup || !result.isDone()) {
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

    /** @param attempt the mark of a hold this call creates; null for none */
    CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis, String attempt) {
        return ACQUIRE.run(redis(), keys, owner, Long.toString(ttlMillis), attempt == null ? "" : attempt)
                .thenApply(NodeReply::parse);
    }

    /** One script for many locks: one round trip; per lock, in order, the ms it has left (0: not held). */
    CompletableFuture<List<Long>> refreshAll(String[] locks, String[] ownersAndTtls) {
        return REFRESH_MANY.run(redis(), locks, ownersAndTtls)
                .thenApply(reply -> reply.stream().map(NodeReply::number).toList());
    }

    CompletableFuture<Boolean> release(String[] keys, String owner, String channel) {
        return RELEASE.run(redis(), keys, owner, channel).thenApply(reply -> released(reply, channel));
    }

    /** Ends the hold only if {@code attempt} made it and its owner has not touched it since. */
    CompletableFuture<Boolean> undo(String[] keys, String owner, String attempt, String channel) {
        return UNDO.run(redis(), keys, owner, attempt, channel).thenApply(reply -> released(reply, channel));
    }

    /** The stored hold: token, owner and ms left; empty if free. */
    CompletableFuture<Optional<NodeReply>> read(String[] keys) {
        return READ.run(redis(), keys).thenApply(reply -> {
            if (reply.isEmpty()) {
                return Optional.empty();
            }
            HoldValue value = HoldValue.parse(String.valueOf(reply.get(0)));
            return Optional.of(new NodeReply(io.dlm4j.spi.Acquisition.Outcome.HELD, value.token(),
                    NodeReply.number(reply.get(1)), value.owner(), value.token()));
        });
    }

    CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token, String attempt) {
        return RECORD_TOKEN.run(redis(), keys, owner, Long.toString(token), attempt).thenApply(RedisNode::isOne);
    }

    /**
     * True if the script ended the hold. A refused PUBLISH after it (no ACL rights on the channel)
     * leaves the release done; it costs waiters elsewhere their push, so it is logged, once per node
     * at WARN and then at DEBUG.
     */
    private boolean released(List<Object> reply, String channel) {
        if (!isOne(reply)) {
            return false;
        }
        if (reply.size() > 1 && NodeReply.number(reply.get(1)) == 0) {
            String error = reply.size() > 2 ? String.valueOf(reply.get(2)) : "(no message)";
            if (publishRefusalLogged.compareAndSet(false, true)) {
                LOG.warn("Redis at {} refused to publish the release on {} ({}); the lock is released, but waiters"
                        + " of other clients find out only at their next try. Grant the user the channels"
                        + " (ACL '&<prefix>released:*').", address(), channel, error);
            } else {
                LOG.debug("Redis at {} refused to publish the release on {} ({})", address(), channel, error);
            }
        }
        return true;
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
