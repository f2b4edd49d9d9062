package io.dlm4j.redis;

import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one pub/sub connection of a Dlm to one Redis server, shared by all its waiters: a channel is
 * subscribed while at least one waiter waits on its key, and unsubscribed when the last one leaves.
 * (A subscription per waiter is what exhausts Redisson's subscription pools.)
 */
final class ReleaseChannel implements AutoCloseable {

    private final RedisClient client;
    private final Duration timeout;
    private final Map<String, Set<Runnable>> waiters = new ConcurrentHashMap<>();
    /**
     * Guards {@link #connection} and the subscribe and unsubscribe decisions. A j.u.c lock, not a
     * monitor: subscribe() waits under it for the server's confirmation and close() closes the
     * connection under it, and a virtual thread waiting there on the server must not pin its carrier.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private StatefulRedisPubSubConnection<String, String> connection;

    ReleaseChannel(RedisClient client, Duration timeout) {
        this.client = client;
        this.timeout = timeout;
    }

    /** Calls {@code wake} on every message on {@code channel} until the subscription is closed. */
    Subscription subscribe(String channel, Runnable wake) {
        lock.lock();
        try {
            Set<Runnable> set = waiters.computeIfAbsent(channel, c -> new CopyOnWriteArraySet<>());
            set.add(wake);
            if (set.size() == 1) {
                try {
                    // waits for the server's confirmation, so that no release after this call is missed
                    connection().async().subscribe(channel).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    leave(channel, wake);
                    throw new IllegalStateException("subscribing to " + channel + " failed: " + e, e);
                }
            }
        } finally {
            lock.unlock();
        }
        return () -> leave(channel, wake);
    }

    private void leave(String channel, Runnable wake) {
        lock.lock();
        try {
            Set<Runnable> set = waiters.get(channel);
            if (set == null || !set.remove(wake)) {
                return;
            }
            if (set.isEmpty()) {
                waiters.remove(channel);
                if (connection != null && connection.isOpen()) {
                    connection.async().unsubscribe(channel); // commands on one connection stay in order
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called with {@link #lock} held: it may connect, which blocks. */
    private StatefulRedisPubSubConnection<String, String> connection() {
        if (connection == null) {
            StatefulRedisPubSubConnection<String, String> created = client.connectPubSub();
            created.setTimeout(timeout);
            created.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    Set<Runnable> set = waiters.get(channel);
                    if (set != null) {
                        List.copyOf(set).forEach(Runnable::run);
                    }
                }
            });
            connection = created;
        }
        return connection;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (connection != null) {
                connection.close();
                connection = null;
            }
            waiters.clear();
        } finally {
            lock.unlock();
        }
    }
}
