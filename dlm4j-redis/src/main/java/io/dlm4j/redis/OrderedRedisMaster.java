package io.dlm4j.redis;

import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A real Redis master: each call goes through {@link RedisNode#inOrder}, so calls keep their order;
 * releases and undos are sent even when their caller gave up, as cleanups must be.
 */
final class OrderedRedisMaster implements RedlockMaster {

    private final RedisNode node;

    OrderedRedisMaster(RedisNode node) {
        this.node = node;
    }

    @Override
    public String address() {
        return node.address();
    }

    @Override
    public CompletableFuture<Void> connectInBackground() {
        return node.connectInBackground();
    }

    @Override
    public CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis, String attempt) {
        return node.inOrder(n -> n.acquire(keys, owner, ttlMillis, attempt));
    }

    @Override
    public CompletableFuture<List<Long>> refreshAll(String[] locks, String[] ownersAndTtls) {
        return node.inOrder(n -> n.refreshAll(locks, ownersAndTtls));
    }

    @Override
    public CompletableFuture<Boolean> release(String[] keys, String owner, String channel) {
        return node.inOrder(n -> n.release(keys, owner, channel), true);
    }

    @Override
    public CompletableFuture<Boolean> undo(String[] keys, String owner, String attempt, String channel) {
        return node.inOrder(n -> n.undo(keys, owner, attempt, channel), true);
    }

    @Override
    public CompletableFuture<Optional<NodeReply>> read(String[] keys) {
        return node.inOrder(n -> n.read(keys));
    }

    @Override
    public CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token, String attempt) {
        return node.inOrder(n -> n.recordToken(keys, owner, token, attempt));
    }

    @Override
    public Duration ping() {
        return node.ping();
    }

    @Override
    public Subscription onRelease(String channel, Runnable wake) {
        return node.onRelease(channel, wake);
    }

    @Override
    public void close() {
        node.close();
    }
}
