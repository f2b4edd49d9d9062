package io.dlm4j.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a server's {@code maxmemory-policy} once, on a node's first connection, and warns if Redis
 * may evict the keys the locks rely on. Only {@code noeviction} is safe: under memory pressure
 * Redis then refuses writes (an acquire fails) instead of dropping keys. The check never fails the
 * connection: a server that refuses {@code CONFIG} (an ACL user, a managed Redis) is logged as not
 * checked.
 */
final class EvictionPolicyCheck {

    private static final Logger LOG = LoggerFactory.getLogger(EvictionPolicyCheck.class);
    private static final String POLICY = "maxmemory-policy";

    private EvictionPolicyCheck() {
    }

    /** Sends {@code CONFIG GET maxmemory-policy} and logs the answer when it comes; does not wait for it. */
    static void start(StatefulRedisConnection<String, String> connection, String address) {
        try {
            connection.async().configGet(POLICY).whenComplete((config, failure) -> report(address, config, failure));
        } catch (RuntimeException e) {
            report(address, null, e);
        }
    }

    private static void report(String address, Map<String, String> config, Throwable failure) {
        if (failure != null || config == null || config.get(POLICY) == null) {
            LOG.info("Redis at {}: could not check {} ({}); make sure it is noeviction, or lock keys may be evicted",
                    address, POLICY, failure != null ? failure.toString() : "no value returned");
            return;
        }
        String policy = config.get(POLICY);
        Optional<String> risk = risk(policy);
        if (risk.isPresent()) {
            LOG.warn("Redis at {}: {} is {}: {}. Set it to noeviction for the locks' keys", address, POLICY, policy,
                    risk.get());
        } else {
            LOG.debug("Redis at {}: {} is {}", address, POLICY, policy);
        }
    }

    /** What {@code policy} can break, or empty if it is {@code noeviction}. */
    static Optional<String> risk(String policy) {
        String normal = policy.toLowerCase(Locale.ROOT);
        if (normal.equals("noeviction")) {
            return Optional.empty();
        }
        if (normal.startsWith("allkeys-")) {
            return Optional.of("any key may be evicted under memory pressure, the fence counters too, and an evicted "
                    + "counter restarts at 1 (INCR), so fencing tokens repeat; held keys may be evicted as well, "
                    + "and then two owners hold the same lock");
        }
        if (normal.startsWith("volatile-")) {
            return Optional.of("keys with a ttl may be evicted under memory pressure, which includes every held lock, "
                    + "so a lock can be taken by a second owner while the first still holds it");
        }
        return Optional.of("an unknown policy; Redis may evict the locks' keys, so that two owners hold the same lock "
                + "or fencing tokens repeat");
    }
}
