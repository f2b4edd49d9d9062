package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.Replies;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Locks on one Redis server: each operation is one script, one round trip; expiry by Redis's clock;
 * a new hold takes the next value of the key's fence counter in the same script. A relock or
 * refresh keeps the later of the hold's expiry and the new ttl, and reports what Redis has left.
 */
final class RedisLockStore implements LockStore {

    private final RedisNode node;
    private final RedisKeys keys;

    RedisLockStore(RedisNode node, RedisKeys keys) {
        this.node = node;
        this.keys = keys;
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, null);
    }

    /** A new hold carries {@code attempt}'s mark until the owner relocks or refreshes it. */
    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        String mark = attempt == null ? null : HoldValue.checkAttempt(attempt);
        NodeReply reply = await(node.acquire(keys.of(key), owner, millis(ttl), mark));
        StoredHold hold = new StoredHold(reply.owner(), reply.token(), Duration.ofMillis(reply.remainingMs()));
        return new Acquisition(reply.outcome(), hold);
    }

    /**
     * Sent on the connection that carried the acquire, after it: an acquire that timed out but
     * still reaches the server is applied before this undo, which then removes it.
     */
    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        boolean undone = await(node.undo(keys.of(key), owner, HoldValue.checkAttempt(attempt), keys.channel(key)));
        return undone ? Undo.RELEASED : Undo.NOTHING_TO_UNDO;
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return refreshAll(List.of(new HoldToRefresh(key, owner, ttl))).get(0);
    }

    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        RefreshBatch batch = RefreshBatch.of(holds, keys);
        return batch.validities(await(node.refreshAll(batch.locks(), batch.ownersAndTtls())));
    }

    @Override
    public int refreshBatchSize() {
        return RefreshBatch.SIZE;
    }

    @Override
    public boolean release(String key, String owner) {
        return await(node.release(keys.of(key), owner, keys.channel(key)));
    }

    @Override
    public Optional<StoredHold> read(String key) {
        return await(node.read(keys.of(key)))
                .map(r -> new StoredHold(r.owner(), r.token(), Duration.ofMillis(r.remainingMs())));
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        return node.onRelease(keys.channel(key), wake);
    }

    @Override
    public Duration ping() {
        return node.ping();
    }

    @Override
    public String describe() {
        return "Redis at " + node.address();
    }

    @Override
    public void close() {
        node.close();
    }

    private <T> T await(CompletableFuture<T> reply) {
        return Replies.await(reply, node.timeout(), "Redis");
    }

    /** Redis counts ttls in whole milliseconds; round up so that a hold never ends early. */
    static long millis(Duration ttl) {
        long millis = ttl.toMillis();
        return ttl.equals(Duration.ofMillis(millis)) ? millis : millis + 1;
    }
}
