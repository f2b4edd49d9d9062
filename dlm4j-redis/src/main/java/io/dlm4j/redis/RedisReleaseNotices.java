package io.dlm4j.redis;

import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The release notices of one Redis server, which the engine's {@code ReleaseNotices} subscribes to:
 * the one pub/sub connection of a Dlm to the server, shared by all its waiters. A channel is
 * subscribed while at least one waiter waits on its key, and unsubscribed when the last one leaves.
 * (A subscription per waiter is what exhausts Redisson's subscription pools.)
 *
 * <p>Notifications only make waiting faster; waiters also try again at the end of each pause. So a
 * subscription that fails or is not confirmed within the operation timeout (a hung or stopped
 * server, an ACL user without channel rights) never fails the waiter: it is logged once, as a
 * warning, and the waiter polls. A channel that failed stays wanted, and is subscribed once a later
 * connection succeeds.
 */
final class RedisReleaseNotices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisReleaseNotices.class);

    /** Connecting blocks (the client library's connect and handshake); it never runs on a caller's thread. */
    private static final ExecutorService CONNECTOR = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "dlm4j-redis-pubsub-connect");
        thread.setDaemon(true);
        return thread;
    });

    private final RedisClient client;
    private final Duration timeout;
    private final Supplier<String> address;
    /** Written under {@link #lock}; read without it by the message listener. */
    private final Map<String, Listeners> channels = new ConcurrentHashMap<>();
    /**
     * Guards {@link #connection}, {@link #connecting}, {@link #closed} and the subscribe and
     * unsubscribe decisions, which must reach the connection in the order they were made. Held only
     * to decide and to hand a command to the client library, which does not block; never while
     * connecting or waiting for the server.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private StatefulRedisPubSubConnection<String, String> connection;
    private boolean connecting;
    private boolean closed;
    /** Set by the warning that waiters poll, cleared by the next confirmed subscription: one warning per outage. */
    private final AtomicBoolean warned = new AtomicBoolean();

    RedisReleaseNotices(RedisClient client, Duration timeout, Supplier<String> address) {
        this.client = client;
        this.timeout = timeout;
        this.address = address;
    }

    /**
     * Calls {@code wake} on every message on {@code channel} until the subscription is closed.
     * Returns once the server confirmed the subscription, so that no release after this call is
     * missed, or after the operation timeout at most; then (or if the thread is interrupted, whose
     * flag stays set) the waiter is registered all the same and polls.
     */
    Subscription subscribe(String channel, Runnable wake) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Listeners listeners;
        CompletableFuture<Void> confirmed;
        boolean connect = false;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the release notifications of Redis at " + address.get() + " are closed");
            }
            listeners = channels.get(channel);
            if (listeners == null) {
                listeners = new Listeners();
                channels.put(channel, listeners);
                if (connection != null) {
                    subscribeOn(connection, channel, listeners);
                }
            } else if (connection != null && listeners.confirmed.isCompletedExceptionally()) {
                subscribeOn(connection, channel, listeners); // a new waiter tries a failed channel again
            }
            listeners.wakes.add(wake);
            if (connection == null && !connecting) {
                connecting = true;
                connect = true;
            }
            confirmed = listeners.confirmed;
        } finally {
            lock.unlock();
        }
        if (connect) {
            connectInBackground();
        }
        awaitConfirmation(channel, confirmed, deadline);
        Listeners joined = listeners;
        return () -> leave(channel, joined, wake);
    }

    private void awaitConfirmation(String channel, CompletableFuture<Void> confirmed, long deadline) {
        try {
            confirmed.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            warned.set(false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the waiter's next step sees the flag and ends the wait
        } catch (ExecutionException e) {
            waitersPoll(channel, e.getCause());
        } catch (TimeoutException e) {
            waitersPoll(channel, new TimeoutException("not confirmed within " + timeout.toMillis() + " ms"));
        }
    }

    private void waitersPoll(String channel, Throwable cause) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("Redis at {}: subscribing to release notifications failed ({}); waiters poll instead, "
                    + "each at its waiting interval or the holder's expiry, until a subscription succeeds",
                    address.get(), cause.toString());
        } else {
            LOG.debug("Redis at {}: subscribing to {} failed ({}); its waiters poll", address.get(), channel,
                    cause.toString());
        }
    }

    private void leave(String channel, Listeners listeners, Runnable wake) {
        CompletableFuture<Void> unsubscribed = null;
        lock.lock();
        try {
            if (channels.get(channel) != listeners || !listeners.wakes.remove(wake) || !listeners.wakes.isEmpty()) {
                return;
            }
            channels.remove(channel);
            if (connection != null && connection.isOpen()) {
                unsubscribed = send(() -> connection.async().unsubscribe(channel).toCompletableFuture());
            }
        } finally {
            lock.unlock();
        }
        if (unsubscribed != null) {
            unsubscribed.whenComplete((ignored, failure) -> {
                if (failure != null) { // a leftover subscription only wakes nobody
                    LOG.debug("Redis at {}: unsubscribing from {} failed", address.get(), channel, failure);
                }
            });
        }
    }

    /** Called with {@link #lock} held; sends SUBSCRIBE and does not wait for it. */
    private void subscribeOn(StatefulRedisPubSubConnection<String, String> open, String channel, Listeners listeners) {
        if (listeners.confirmed.isDone()) {
            listeners.confirmed = new CompletableFuture<>();
        }
        CompletableFuture<Void> target = listeners.confirmed;
        // one channel per command: Lettuce completes a SUBSCRIBE of several channels at the first confirmation
        send(() -> open.async().subscribe(channel).toCompletableFuture()).whenComplete((ignored, failure) -> {
            if (failure != null) {
                target.completeExceptionally(failure);
            } else {
                target.complete(null);
            }
        });
    }

    private static CompletableFuture<Void> send(Supplier<CompletableFuture<Void>> command) {
        try {
            return command.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void connectInBackground() {
        try {
            CONNECTOR.execute(this::connect);
        } catch (RuntimeException e) {
            connectFailed(e);
        }
    }

    private void connect() {
        StatefulRedisPubSubConnection<String, String> created;
        try {
            created = client.connectPubSub();
            created.setTimeout(timeout);
            created.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    Listeners listeners = channels.get(channel);
                    if (listeners != null) {
                        List.copyOf(listeners.wakes).forEach(Runnable::run);
                    }
                }
            });
        } catch (RuntimeException e) {
            connectFailed(e);
            return;
        }
        boolean keep;
        lock.lock();
        try {
            connecting = false;
            keep = !closed;
            if (keep) {
                connection = created;
                channels.forEach((channel, listeners) -> subscribeOn(created, channel, listeners));
            }
        } finally {
            lock.unlock();
        }
        if (!keep) {
            created.closeAsync();
        }
    }

    /** Ends the waits for confirmation at once; the channels stay wanted, for the next connection. */
    private void connectFailed(RuntimeException failure) {
        lock.lock();
        try {
            connecting = false;
            channels.values().forEach(listeners -> listeners.confirmed.completeExceptionally(failure));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        StatefulRedisPubSubConnection<String, String> open;
        lock.lock();
        try {
            closed = true;
            open = connection;
            connection = null;
            channels.clear();
        } finally {
            lock.unlock();
        }
        if (open != null) {
            open.close();
        }
    }

    /** The waiters of one channel, and whether the server confirmed its subscription. */
    private static final class Listeners {
        final Set<Runnable> wakes = new CopyOnWriteArraySet<>();
        /** Replaced (under {@link RedisReleaseNotices#lock}) when a failed subscription is tried again. */
        volatile CompletableFuture<Void> confirmed = new CompletableFuture<>();
    }
}
