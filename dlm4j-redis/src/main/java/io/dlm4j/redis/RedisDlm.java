package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;
import io.lettuce.core.RedisClient;

import java.util.Objects;

/**
 * A {@link Dlm} on one Redis server (6.2 or later) through Lettuce. Each acquire, refresh and
 * release is one Lua script, so one round trip; expiry is Redis's own; waiters are woken by a
 * publish in the release script, through one pub/sub connection per Dlm.
 *
 * <p>One Redis is one point of failure: a failover to a replica, or a restart without persistence,
 * loses the holds (and, without persistence, the fencing counters). See docs/REDIS.md.
 */
public final class RedisDlm {

    /** The default prefix of every key and channel the locks use. */
    public static final String DEFAULT_KEY_PREFIX = RedisKeys.DEFAULT_PREFIX;

    private RedisDlm() {
    }

    /** A Dlm on the server {@code client} connects to; closing it leaves the client open. */
    public static Dlm create(RedisClient client, DlmOptions options) {
        return create(client, options, DEFAULT_KEY_PREFIX);
    }

    /** As {@link #create(RedisClient, DlmOptions)}, with every key and channel under {@code keyPrefix}. */
    public static Dlm create(RedisClient client, DlmOptions options, String keyPrefix) {
        Objects.requireNonNull(client, "client must not be null");
        Objects.requireNonNull(options, "options must not be null");
        return create(new RedisNode(client, false, options.operationTimeout(), null), options, keyPrefix);
    }

    static Dlm create(RedisNode node, DlmOptions options, String keyPrefix) {
        return new StoreBackedDlm(new RedisLockStore(node, new RedisKeys(keyPrefix)), options);
    }
}
