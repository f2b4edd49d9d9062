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

    /** The names under {@link #DEFAULT_PREFIX}. */
    static final RedisKeys DEFAULT = new RedisKeys(DEFAULT_PREFIX);

    private final String prefix;

    RedisKeys(String prefix) {
        Objects.requireNonNull(prefix, "keyPrefix must not be null");
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("keyPrefix must not contain '{' or '}' (they would change the "
                    + "hash tag that keeps a lock and its counter in one slot), was '" + prefix + "'");
        }
        this.prefix = prefix;
    }

    /** Lock key first, fence counter second: the order every script takes them in. */
    String[] of(String key) {
        String lock = lock(key);
        return new String[] {lock, lock + ":fence"};
    }

    /** The key that holds the lock's value. */
    String lock(String key) {
        return prefix + "{" + hashTagSafe(key) + "}";
    }

    /** The key's fencing counter. */
    String fence(String key) {
        return lock(key) + ":fence";
    }

    /**
     * The key with backslashes and closing braces escaped, so that the hash tag is the whole key (a
     * closing brace in the key would end the tag early, or empty it): one-to-one, and unchanged for
     * most keys.
     */
    static String hashTagSafe(String key) {
        if (key.indexOf('}') < 0 && key.indexOf('\\') < 0) {
            return key;
        }
        return key.replace("\\", "\\\\").replace("}", "\\)");
    }

    String channel(String key) {
        return prefix + "released:" + key;
    }
}
