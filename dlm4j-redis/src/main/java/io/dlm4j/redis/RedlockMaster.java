package io.dlm4j.redis;

import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The calls {@link RedlockLockStore} makes to one master, each answered by a future. The seam below
 * the Redlock decisions: {@link OrderedRedisMaster} is the real one; tests script each master's
 * replies, their order and their lateness. Calls to one master reach it in the order they were
 * made (a release never overtakes the acquire before it).
 */
interface RedlockMaster extends AutoCloseable {

    String address();

    /** Completes once connected. */
    CompletableFuture<Void> connectInBackground();

    /** @param attempt the mark of a hold this call creates */
    CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis, String attempt);

    /** Per lock, the ms it has left once extended; 0 if that owner does not hold it. */
    CompletableFuture<List<Long>> refreshAll(String[] locks, String[] ownersAndTtls);

    CompletableFuture<Boolean> release(String[] keys, String owner, String channel);

    /** Ends the hold only if {@code attempt} made it and its owner has not touched it since. */
    CompletableFuture<Boolean> undo(String[] keys, String owner, String attempt, String channel);

    CompletableFuture<Optional<NodeReply>> read(String[] keys);

    CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token, String attempt);

    /** Blocks, at most the operation timeout. */
    Duration ping();

    /** Blocks, at most the operation timeout. */
    Subscription onRelease(String channel, Runnable wake);

    @Override
    void close();
}
