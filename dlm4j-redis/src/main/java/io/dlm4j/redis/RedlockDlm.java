package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;
import io.lettuce.core.RedisClient;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link Dlm} on N independent Redis masters with the Redlock algorithm: a lock is held when a
 * majority (N/2 + 1) granted it within the validity time. It survives the loss of a minority of
 * masters. Fencing tokens stay strictly increasing across the quorum (see {@link RedlockLockStore}).
 *
 * <p>Use an odd N (3 or 5): an even N is accepted, with the same majority rule (4 masters need 3),
 * so it tolerates no more failures than N - 1. See docs/REDIS.md for the timing assumptions.
 */
public final class RedlockDlm {

    private RedlockDlm() {
    }

    /** A Dlm on {@code masters}, one client per independent master; closing it leaves the clients open. */
    public static Dlm create(List<RedisClient> masters, DlmOptions options) {
        return create(masters, options, RedisDlm.DEFAULT_KEY_PREFIX);
    }

    /** As {@link #create(List, DlmOptions)}, with every key and channel under {@code keyPrefix}. */
    public static Dlm create(List<RedisClient> masters, DlmOptions options, String keyPrefix) {
        Objects.requireNonNull(masters, "masters must not be null");
        Objects.requireNonNull(options, "options must not be null");
        if (masters.isEmpty()) {
            throw new IllegalArgumentException("masters must not be empty: Redlock needs at least one Redis master");
        }
        Set<RedisClient> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<RedisNode> nodes = new ArrayList<>();
        for (RedisClient master : masters) {
            Objects.requireNonNull(master, "masters must not contain null");
            if (!seen.add(master)) {
                throw new IllegalArgumentException("masters must be distinct: the same RedisClient is listed twice");
            }
            nodes.add(new RedisNode(master, false, options.operationTimeout(), null));
        }
        return createOnNodes(nodes, options, keyPrefix);
    }

    static Dlm createOnNodes(List<RedisNode> nodes, DlmOptions options, String keyPrefix) {
        return new StoreBackedDlm(new RedlockLockStore(nodes, new RedisKeys(keyPrefix), options.operationTimeout()),
                options);
    }
}
