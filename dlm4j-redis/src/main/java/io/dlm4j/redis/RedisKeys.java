package io.dlm4j.redis;

import java.util.Objects;

/**
 * Names in Redis for a lock: {@code <prefix>{<key>}} holds {@code "<token>:<owner>"} with the
 * hold's expiry; {@code <prefix>{<key>}:fence} is the key's fencing counter, which never expires.
 * Both share the hash tag {@code {<key>}} (Redis Cluster hashes only what is between the first
 * braces), so a script may touch both in one slot. Waiters listen on {@code <prefix>released:<key>}.
 */
final class RedisKeys {

    static final String DEFAULT_PREFIX = "dlm4j:";

    private final String prefix;

    RedisKeys(String prefix) {
        this.prefix = Objects.requireNonNull(prefix, "keyPrefix must not be null");
    }

    /** Lock key first, fence counter second: the order every script takes them in. */
    String[] of(String key) {
        String lock = prefix + "{" + key + "}";
        return new String[] {lock, lock + ":fence"};
    }

    String channel(String key) {
        return prefix + "released:" + key;
    }
}
