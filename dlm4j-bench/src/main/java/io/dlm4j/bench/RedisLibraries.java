package io.dlm4j.bench;

import io.dlm4j.DlmOptions;
import io.dlm4j.redis.RedisDlm;
import io.dlm4j.redis.RedlockDlm;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import org.redisson.Redisson;
import org.redisson.RedissonRedLock;
import org.redisson.api.RFencedLock;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The libraries measured on Redis and on Redlock's masters. */
final class RedisLibraries {

    /** Deletes the key only if it still holds the caller's value: the raw release. */
    static final String COMPARE_AND_DELETE =
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    /**
     * The same guarantees as dlm4j's acquire, written directly: a fencing token from a counter that
     * never expires, stored with the owner. One EVALSHA.
     */
    static final String FENCED_ACQUIRE = """
            if redis.call('exists', KEYS[1]) == 1 then return 0 end
            local token = redis.call('incr', KEYS[2])
            redis.call('set', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
            return token""";

    /** The same guarantees as dlm4j's release: compare-and-delete, and tell waiters (PUBLISH). One EVALSHA. */
    static final String FENCED_RELEASE = """
            local current = redis.call('get', KEYS[1])
            if current and string.sub(current, string.find(current, ':', 1, true) + 1) == ARGV[1] then
              redis.call('del', KEYS[1])
              redis.call('publish', ARGV[2], KEYS[1])
              return 1
            end
            return 0""";

    private RedisLibraries() {
    }

    static LockClient create(String library, List<String> hostPorts, Duration ttl) {
        return switch (library) {
            case "raw" -> hostPorts.size() == 1 ? new RawRedis(hostPorts.get(0), ttl, false) : new RawRedlock(hostPorts, ttl);
            case "polling" -> new RawRedis(hostPorts.get(0), ttl, true);
            case "raw-fenced" -> new RawFencedRedis(hostPorts.get(0), ttl);
            case "dlm4j" -> dlm4j(hostPorts, ttl);
            case "redisson" -> new RedissonLocks(hostPorts.get(0), ttl, false);
            case "redisson-fenced" -> new RedissonLocks(hostPorts.get(0), ttl, true);
            case "redisson-redlock" -> new RedissonRedLocks(hostPorts, ttl);
            default -> throw new IllegalArgumentException("library must be one of raw, raw-fenced, polling, dlm4j, redisson, "
                    + "redisson-fenced, redisson-redlock for Redis, was '" + library + "'");
        };
    }

    private static LockClient dlm4j(List<String> hostPorts, Duration ttl) {
        List<RedisClient> clients = new ArrayList<>();
        for (String hostPort : hostPorts) {
            clients.add(RedisClient.create("redis://" + hostPort));
        }
        DlmOptions options = DlmOptions.builder().defaultTtl(ttl).build();
        var dlm = clients.size() == 1 ? RedisDlm.create(clients.get(0), options) : RedlockDlm.create(clients, options);
        return new DlmClient(dlm, ttl, () -> clients.forEach(RedisClient::shutdown));
    }

    /** SET NX PX and a compare-and-delete script (EVALSHA) on one shared connection, as dlm4j has. */
    static final class RawRedis implements LockClient {
        private final RedisClient client;
        private final StatefulRedisConnection<String, String> connection;
        private final RedisCommands<String, String> redis;
        private final String releaseSha;
        private final long ttlMs;
        private final boolean polling;

        RawRedis(String hostPort, Duration ttl, boolean polling) {
            this.client = RedisClient.create("redis://" + hostPort);
            this.connection = client.connect();
            this.redis = connection.sync();
            this.releaseSha = redis.scriptLoad(COMPARE_AND_DELETE);
            this.ttlMs = ttl.toMillis();
            this.polling = polling;
        }

        @Override
        public boolean canWait() {
            return polling;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            String name = (polling ? "poll:" : "raw:") + key;
            PollingLock.Attempt attempt = new PollingLock.Attempt() {
                @Override
                public boolean tryLock() {
                    return "OK".equals(redis.set(name, owner, SetArgs.Builder.nx().px(ttlMs)));
                }

                @Override
                public void unlock() {
                    redis.evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {name}, owner);
                }
            };
            return polling ? new PollingLock(attempt) : new TryOnlyLock(attempt, name);
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }

    /**
     * Not the minimum but a like-for-like baseline: one script per acquire and per release doing what
     * dlm4j's scripts guarantee (fencing token, owner check, release notice), over one shared
     * connection, with no engine around it. dlm4j/raw-fenced is the cost of the engine and client code.
     */
    static final class RawFencedRedis implements LockClient {
        private final RedisClient client;
        private final StatefulRedisConnection<String, String> connection;
        private final RedisCommands<String, String> redis;
        private final String acquireSha;
        private final String releaseSha;
        private final String ttlMs;

        RawFencedRedis(String hostPort, Duration ttl) {
            this.client = RedisClient.create("redis://" + hostPort);
            this.connection = client.connect();
            this.redis = connection.sync();
            this.acquireSha = redis.scriptLoad(FENCED_ACQUIRE);
            this.releaseSha = redis.scriptLoad(FENCED_RELEASE);
            this.ttlMs = Long.toString(ttl.toMillis());
        }

        @Override
        public boolean canWait() {
            return false;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            String[] keys = {"rawf:{" + key + "}", "rawf:{" + key + "}:fence"};
            String channel = "rawf:released:" + key;
            return new TryOnlyLock(new PollingLock.Attempt() {
                @Override
                public boolean tryLock() {
                    Long token = redis.evalsha(acquireSha, ScriptOutputType.INTEGER, keys, owner, ttlMs);
                    return token != null && token > 0;
                }

                @Override
                public void unlock() {
                    redis.evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {keys[0]}, owner, channel);
                }
            }, key);
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }

    /** Redlock's minimum: SET NX PX on every master at once, a majority wins; compare-and-delete on all. */
    static final class RawRedlock implements LockClient {
        private final List<RedisClient> clients = new ArrayList<>();
        private final List<RedisAsyncCommands<String, String>> masters = new ArrayList<>();
        private final String releaseSha;
        private final long ttlMs;

        RawRedlock(List<String> hostPorts, Duration ttl) {
            String sha = null;
            for (String hostPort : hostPorts) {
                RedisClient c = RedisClient.create("redis://" + hostPort);
                clients.add(c);
                StatefulRedisConnection<String, String> connection = c.connect();
                sha = connection.sync().scriptLoad(COMPARE_AND_DELETE);
                masters.add(connection.async());
            }
            this.releaseSha = sha;
            this.ttlMs = ttl.toMillis();
        }

        @Override
        public boolean canWait() {
            return false;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            String name = "raw:" + key;
            return new TryOnlyLock(new PollingLock.Attempt() {
                @Override
                public boolean tryLock() throws Exception {
                    List<RedisFuture<String>> replies = new ArrayList<>();
                    for (RedisAsyncCommands<String, String> m : masters) {
                        replies.add(m.set(name, owner, SetArgs.Builder.nx().px(ttlMs)));
                    }
                    int granted = 0;
                    for (RedisFuture<String> r : replies) {
                        if ("OK".equals(r.get(10, TimeUnit.SECONDS))) {
                            granted++;
                        }
                    }
                    if (granted > masters.size() / 2) {
                        return true;
                    }
                    unlock();
                    return false;
                }

                @Override
                public void unlock() throws Exception {
                    List<RedisFuture<Long>> replies = new ArrayList<>();
                    for (RedisAsyncCommands<String, String> m : masters) {
                        replies.add(m.evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {name}, owner));
                    }
                    for (RedisFuture<Long> r : replies) {
                        r.get(10, TimeUnit.SECONDS);
                    }
                }
            }, name);
        }

        @Override
        public void close() {
            clients.forEach(RedisClient::shutdown);
        }
    }

    static RedissonClient redisson(String hostPort) {
        Config config = new Config();
        config.useSingleServer().setAddress("redis://" + hostPort);
        return Redisson.create(config);
    }

    /** Redisson's RLock (or RFencedLock) with a lease time, so no watchdog runs: owner = thread. */
    static final class RedissonLocks implements LockClient {
        private final RedissonClient redisson;
        private final long ttlMs;
        private final boolean fenced;

        RedissonLocks(String hostPort, Duration ttl, boolean fenced) {
            this.redisson = redisson(hostPort);
            this.ttlMs = ttl.toMillis();
            this.fenced = fenced;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            if (fenced) {
                RFencedLock lock = redisson.getFencedLock("redisson-fenced:" + key);
                return new LockHandle() {
                    @Override
                    public void lock() {
                        lock.lockAndGetToken(ttlMs, TimeUnit.MILLISECONDS);
                    }

                    @Override
                    public void unlock() {
                        lock.unlock();
                    }
                };
            }
            RLock lock = redisson.getLock("redisson:" + key);
            return new LockHandle() {
                @Override
                public void lock() {
                    lock.lock(ttlMs, TimeUnit.MILLISECONDS);
                }

                @Override
                public void unlock() {
                    lock.unlock();
                }
            };
        }

        @Override
        public void close() {
            redisson.shutdown();
        }
    }

    /** Redisson's RedissonRedLock over one Redisson client per master (deprecated there, still shipped). */
    static final class RedissonRedLocks implements LockClient {
        private final List<RedissonClient> clients = new ArrayList<>();
        private final long ttlMs;

        RedissonRedLocks(List<String> hostPorts, Duration ttl) {
            for (String hostPort : hostPorts) {
                clients.add(redisson(hostPort));
            }
            this.ttlMs = ttl.toMillis();
        }

        @Override
        @SuppressWarnings("deprecation")
        public LockHandle handle(String key, String owner) {
            RLock[] locks = clients.stream().map(c -> c.getLock("redisson:" + key)).toArray(RLock[]::new);
            RedissonRedLock redLock = new RedissonRedLock(locks);
            return new LockHandle() {
                @Override
                public void lock() {
                    redLock.lock(ttlMs, TimeUnit.MILLISECONDS);
                }

                @Override
                public void unlock() {
                    redLock.unlock();
                }
            };
        }

        @Override
        public void close() {
            clients.forEach(RedissonClient::shutdown);
        }
    }
}
