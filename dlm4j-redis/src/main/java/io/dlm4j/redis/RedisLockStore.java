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
 * a new hold takes the next value of the key's fence counter in the same script.
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
        NodeReply reply = await(node.acquire(keys.of(key), owner, millis(ttl)));
        StoredHold hold = new StoredHold(reply.owner(), reply.token(), Duration.ofMillis(reply.remainingMs()));
        return new Acquisition(reply.outcome(), hold);
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return refreshAll(List.of(new HoldToRefresh(key, owner, ttl))).get(0);
    }

    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        RefreshBatch batch = RefreshBatch.of(holds, keys);
        List<Boolean> held = await(node.refreshAll(batch.locks(), batch.ownersAndTtls()));
        return batch.validities(held);
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
