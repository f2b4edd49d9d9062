package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.Replies;
import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One Redis server and the lock operations on it, each one Lua script ({@link RedisScripts}) and so
 * one round trip. The stores build on it: {@link RedisLockStore} on one node, {@link RedlockLockStore}
 * on a quorum. Expiry is Redis's own (PX, PEXPIRE, PTTL): the client's clock never enters.
 */
final class RedisNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisNode.class);
    /**
     * Read when the first node is made, as the scripts were when they lived in this class: a script
     * missing from the jar fails the Dlm's creation, and no lock call pays for the reading.
     */
    private static final RedisScripts SCRIPTS = RedisScripts.load();

    private final RedisConnection connection;
    private final OrderedDispatcher dispatcher;
    private final AtomicBoolean publishRefusalLogged = new AtomicBoolean();

    /**
     * @param address the server's address if known ({@code host:port}); otherwise it is read from
     *                the server once connected
     */
    RedisNode(RedisClient client, boolean ownsClient, Duration timeout, String address) {
        this.connection = new RedisConnection(client, ownsClient, timeout, address);
        this.dispatcher = new OrderedDispatcher(connection::isConnected, connection::address);
    }

    String address() {
        return connection.address();
    }

    Duration timeout() {
        return connection.timeout();
    }

    /** Runs {@code operation} in the order of the calls; see {@link OrderedDispatcher}. */
    <T> CompletableFuture<T> inOrder(Function<RedisNode, CompletableFuture<T>> operation) {
        return inOrder(operation, false);
    }

    /** As {@link #inOrder(Function)}; a {@code cleanup} is sent even if its caller gave up before its turn. */
    <T> CompletableFuture<T> inOrder(Function<RedisNode, CompletableFuture<T>> operation, boolean cleanup) {
        return dispatcher.dispatch(() -> operation.apply(this), cleanup);
    }

    /** Connects in the background, if not connected yet; the future completes once connected. */
    CompletableFuture<Void> connectInBackground() {
        return inOrder(node -> {
            connection.commands();
            return CompletableFuture.completedFuture(null);
        });
    }

    /** @param attempt the mark of a hold this call creates; null for none */
    CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis, String attempt) {
        return SCRIPTS.acquire().run(connection.commands(), keys, owner, Long.toString(ttlMillis),
                attempt == null ? "" : attempt).thenApply(NodeReply::parse);
    }

    /** One script for many locks: one round trip; per lock, in order, the ms it has left (0: not held). */
    CompletableFuture<List<Long>> refreshAll(String[] locks, String[] ownersAndTtls) {
        return SCRIPTS.refresh().run(connection.commands(), locks, ownersAndTtls)
                .thenApply(reply -> reply.stream().map(NodeReply::number).toList());
    }

    CompletableFuture<Boolean> release(String[] keys, String owner, String channel) {
        return SCRIPTS.release().run(connection.commands(), keys, owner, channel)
                .thenApply(reply -> released(reply, channel));
    }

    /** Ends the hold only if {@code attempt} made it and its owner has not touched it since. */
    CompletableFuture<Boolean> undo(String[] keys, String owner, String attempt, String channel) {
        return SCRIPTS.undoAcquire().run(connection.commands(), keys, owner, attempt, channel)
                .thenApply(reply -> released(reply, channel));
    }

    /** The stored hold: token, owner and ms left; empty if free. */
    CompletableFuture<Optional<NodeReply>> read(String[] keys) {
        return SCRIPTS.read().run(connection.commands(), keys).thenApply(reply -> {
            if (reply.isEmpty()) {
                return Optional.empty();
            }
            HoldValue value = HoldValue.parse(String.valueOf(reply.get(0)));
            return Optional.of(new NodeReply(Acquisition.Outcome.HELD, value.token(),
                    NodeReply.number(reply.get(1)), value.owner(), value.token()));
        });
    }

    CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token, String attempt) {
        return SCRIPTS.recordToken().run(connection.commands(), keys, owner, Long.toString(token), attempt)
                .thenApply(RedisNode::isOne);
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
        Replies.await(connection.commands().ping().toCompletableFuture(), timeout(), "Redis");
        return Duration.ofNanos(System.nanoTime() - start);
    }

    Subscription onRelease(String channel, Runnable wake) {
        return connection.releaseNotices().subscribe(channel, wake);
    }

    private static boolean isOne(List<Object> reply) {
        return !reply.isEmpty() && NodeReply.number(reply.get(0)) == 1;
    }

    @Override
    public void close() {
        dispatcher.close();
        connection.close();
    }
}
