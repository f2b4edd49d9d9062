package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.Acquisition.Outcome;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.Replies;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

import static io.dlm4j.redis.RedisLockStore.millis;

/**
 * The Redlock algorithm on N independent Redis masters: every operation goes to all of them in
 * parallel, each with a per-node timeout small against the ttl, and counts only with a majority
 * (N/2 + 1) within the validity time, ttl - elapsed - drift (drift = 1% of the ttl + 2 ms).
 * A failed acquisition is released on every node.
 *
 * <h2>Fencing tokens across a quorum</h2>
 * No single master is authoritative, so no single counter can issue the token. Each master keeps a
 * fence counter that the acquire script raises (INCR) when it grants a new hold, and returns.
 * <ol>
 *   <li>The token of a new hold is the maximum of the counters returned by the majority G that
 *       granted it.</li>
 *   <li>Before the token is handed out, it is recorded on a majority W of masters while the hold is
 *       still ours there (a script that checks the owner, raises the counter to at least the token
 *       and stores it with the hold). If that fails, the acquisition fails and is released.</li>
 * </ol>
 * Claim: a token T is greater than every token T' handed out before. T' was recorded on a majority
 * W' while its owner held the lock on those masters. G and W' are majorities of the same N, so they
 * share a master m. On m, our hold came after the hold of T' ended, so our INCR on m ran after T'
 * was recorded there: m's counter was at least T' and our INCR made it at least T' + 1. T is the
 * maximum over G, which includes m, so T &gt; T'. The argument needs the counters to survive restarts
 * (Redis persistence with appendfsync always), as Redlock's own safety does.
 */
final class RedlockLockStore implements LockStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedlockLockStore.class);
    private static final Duration MIN_NODE_TIMEOUT = Duration.ofMillis(100);
    private static final Duration MAX_NODE_TIMEOUT = Duration.ofSeconds(1);

    private final List<RedisNode> nodes;
    private final RedisKeys keys;
    private final int quorum;
    private final Duration operationTimeout;
    /** Subscriptions and pings block; they run here so that a hung master holds up no caller. */
    private final ExecutorService blockingCalls;
    private final CountDownLatch connected;
    private volatile boolean firstConnectionsAwaited;

    RedlockLockStore(List<RedisNode> nodes, RedisKeys keys, Duration operationTimeout) {
        this.nodes = List.copyOf(nodes);
        this.keys = keys;
        this.quorum = nodes.size() / 2 + 1;
        this.operationTimeout = operationTimeout;
        this.blockingCalls = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "dlm4j-redlock-blocking");
            thread.setDaemon(true);
            return thread;
        });
        this.connected = new CountDownLatch(quorum);
        for (RedisNode node : this.nodes) {
            node.connectInBackground().thenRun(connected::countDown);
        }
    }

    int quorum() {
        return quorum;
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        String[] lock = keys.of(key);
        Duration nodeTimeout = nodeTimeout(ttl);
        long start = System.nanoTime();
        List<Reply<NodeReply>> replies = ask(nodes, node -> node.acquire(lock, owner, millis(ttl)), nodeTimeout);
        List<Reply<NodeReply>> granted = replies.stream()
                .filter(r -> r.value() != null && r.value().outcome() != Outcome.HELD).toList();
        if (granted.size() >= quorum) {
            boolean relock = granted.stream().allMatch(r -> r.value().outcome() == Outcome.REFRESHED);
            long token = relock
                    ? granted.stream().mapToLong(r -> r.value().token()).max().orElseThrow()
                    : granted.stream().mapToLong(r -> r.value().fence()).max().orElseThrow();
            if (relock || recorded(granted, lock, owner, token, nodeTimeout)) {
                Duration validity = validity(ttl, start);
                if (!validity.isNegative() && !validity.isZero()) {
                    StoredHold hold = new StoredHold(owner, token, validity);
                    return relock ? Acquisition.refreshed(hold) : Acquisition.acquired(hold);
                }
            }
        }
        releaseEverywhere(key, owner);
        return notAcquired(replies);
    }

    /** Records the token on a majority while the hold is ours there; see the class comment. */
    private boolean recorded(List<Reply<NodeReply>> granted, String[] lock, String owner, long token,
                             Duration nodeTimeout) {
        List<RedisNode> granting = granted.stream().map(Reply::node).toList();
        return ask(granting, node -> node.recordToken(lock, owner, token), nodeTimeout).stream()
                .filter(r -> Boolean.TRUE.equals(r.value())).count() >= quorum;
    }

    private Acquisition notAcquired(List<Reply<NodeReply>> replies) {
        List<NodeReply> held = replies.stream().map(Reply::value)
                .filter(r -> r != null && r.outcome() == Outcome.HELD).toList();
        long failed = replies.stream().filter(r -> r.failure() != null).count();
        if (held.isEmpty() && failed > nodes.size() - quorum) {
            throw noQuorum(replies);
        }
        if (held.isEmpty()) {
            // a majority granted it, but too late to be worth anything: try again soon
            return Acquisition.heldBy(new StoredHold("(no owner: the grant came too late)", 0, Duration.ZERO));
        }
        Map<String, Long> votes = held.stream().collect(Collectors.groupingBy(NodeReply::owner, Collectors.counting()));
        String owner = votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        long token = held.stream().filter(r -> r.owner().equals(owner)).mapToLong(NodeReply::token).max().orElse(0);
        long soonest = held.stream().mapToLong(NodeReply::remainingMs).min().orElse(0);
        return Acquisition.heldBy(new StoredHold(owner, token, Duration.ofMillis(Math.max(0, soonest))));
    }

    /** A batch of one: the decision (extended, lost or undecided) lives once, in {@link #refreshAll}. */
    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return refreshAll(List.of(new HoldToRefresh(key, owner, ttl))).get(0);
    }

    /**
     * One many-locks script per master, in parallel. A hold is extended if a majority extended it
     * within its validity time, and lost if a majority refused it. If a hold is undecided (neither),
     * the whole batch fails and the engine retries it until the hold would have expired.
     */
    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        RefreshBatch batch = RefreshBatch.of(holds, keys);
        Duration shortestTtl = holds.stream().map(HoldToRefresh::ttl).min(Comparator.naturalOrder()).orElseThrow();
        long start = System.nanoTime();
        List<Reply<List<Boolean>>> replies = ask(nodes,
                node -> node.refreshAll(batch.locks(), batch.ownersAndTtls()), nodeTimeout(shortestTtl));
        List<Optional<Duration>> results = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            int index = i;
            long extended = replies.stream().filter(r -> r.value() != null && r.value().get(index)).count();
            long refused = replies.stream().filter(r -> r.value() != null && !r.value().get(index)).count();
            Duration validity = validity(holds.get(i).ttl(), start);
            if (extended >= quorum && !validity.isNegative() && !validity.isZero()) {
                results.add(Optional.of(validity));
            } else if (refused > nodes.size() - quorum) {
                results.add(Optional.empty()); // a majority says the hold is not ours: it is lost
            } else {
                throw noQuorum(replies);
            }
        }
        return results;
    }

    @Override
    public int refreshBatchSize() {
        return RefreshBatch.SIZE;
    }

    @Override
    public boolean release(String key, String owner) {
        List<Reply<Boolean>> replies = releaseEverywhere(key, owner);
        if (replies.stream().filter(r -> r.failure() == null).count() < quorum) {
            throw noQuorum(replies);
        }
        return replies.stream().filter(r -> Boolean.TRUE.equals(r.value())).count() >= quorum;
    }

    private List<Reply<Boolean>> releaseEverywhere(String key, String owner) {
        String[] lock = keys.of(key);
        String channel = keys.channel(key);
        return ask(nodes, node -> node.release(lock, owner, channel), nodeTimeout(operationTimeout));
    }

    @Override
    public Optional<StoredHold> read(String key) {
        String[] lock = keys.of(key);
        List<Reply<Optional<NodeReply>>> replies = ask(nodes, node -> node.read(lock), nodeTimeout(operationTimeout));
        if (replies.stream().filter(r -> r.failure() == null).count() < quorum) {
            throw noQuorum(replies);
        }
        Map<String, List<NodeReply>> byOwner = replies.stream().map(Reply::value)
                .filter(r -> r != null && r.isPresent()).map(Optional::get)
                .collect(Collectors.groupingBy(NodeReply::owner));
        return byOwner.values().stream().filter(holds -> holds.size() >= quorum).findFirst()
                .map(holds -> new StoredHold(holds.get(0).owner(),
                        holds.stream().mapToLong(NodeReply::token).max().orElseThrow(),
                        Duration.ofMillis(holds.stream().mapToLong(NodeReply::remainingMs).min().orElseThrow())));
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        String channel = keys.channel(key);
        List<CompletableFuture<Subscription>> subscriptions = nodes.stream()
                .map(node -> CompletableFuture.supplyAsync(() -> node.onRelease(channel, wake), blockingCalls)
                        .whenComplete((s, failure) -> {
                            if (failure != null) {
                                LOG.debug("no release notifications from Redis at {}; waiters poll it", node.address(), failure);
                            }
                        }))
                .toList();
        try {
            // the common case, every master up, is subscribed before the first try; a slow or dead
            // master is not waited for: polling covers it
            CompletableFuture.allOf(subscriptions.toArray(CompletableFuture[]::new))
                    .get(nodeTimeout(operationTimeout).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the waiter's next step ends the wait
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("not every Redis master confirmed the subscription to {} in time", channel);
        }
        return () -> subscriptions.forEach(f -> f.thenAccept(Subscription::close));
    }

    @Override
    public Duration ping() {
        long start = System.nanoTime();
        List<Reply<String>> replies = ask(nodes, node -> CompletableFuture.supplyAsync(() -> {
            node.ping();
            return "PONG";
        }, blockingCalls), operationTimeout);
        if (replies.stream().filter(r -> r.failure() == null).count() < quorum) {
            throw noQuorum(replies);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public String describe() {
        return "Redlock on " + nodes.size() + " Redis masters (quorum " + quorum + ") at "
                + nodes.stream().map(RedisNode::address).collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        while (connected.getCount() > 0) {
            connected.countDown(); // a first operation still waiting for connections goes on, and fails
        }
        RuntimeException failure = null;
        for (RedisNode node : nodes) {
            try {
                node.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        blockingCalls.shutdownNow();
        if (failure != null) {
            throw failure;
        }
    }

    /** Small against the ttl, so that a hung master costs little of the validity time. */
    private Duration nodeTimeout(Duration ttl) {
        Duration tenth = ttl.dividedBy(10);
        Duration cap = operationTimeout.compareTo(MAX_NODE_TIMEOUT) < 0 ? operationTimeout : MAX_NODE_TIMEOUT;
        if (tenth.compareTo(MIN_NODE_TIMEOUT) < 0) {
            tenth = MIN_NODE_TIMEOUT;
        }
        return tenth.compareTo(cap) < 0 ? tenth : cap;
    }

    private static Duration validity(Duration ttl, long startNanos) {
        Duration drift = Duration.ofMillis(ttl.toMillis() / 100 + 2);
        return ttl.minusNanos(System.nanoTime() - startNanos).minus(drift);
    }

    /** Sends {@code operation} to every node at once and collects what arrived within {@code limit}. */
    private <T> List<Reply<T>> ask(List<RedisNode> targets, Function<RedisNode, CompletableFuture<T>> operation,
                                   Duration limit) {
        awaitFirstConnections();
        long deadline = System.nanoTime() + limit.toNanos();
        List<CompletableFuture<T>> pending = new ArrayList<>();
        for (RedisNode node : targets) {
            pending.add(node.inOrder(operation));
        }
        List<Reply<T>> replies = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            try {
                replies.add(new Reply<>(targets.get(i), Replies.await(pending.get(i), left, "Redis"), null));
            } catch (RuntimeException e) {
                // the time left for this master says nothing to a reader; the limit all of them had does
                RuntimeException failure = e.getCause() instanceof TimeoutException
                        ? new IllegalStateException("no answer within " + limit.toMillis() + " ms", e.getCause())
                        : e;
                replies.add(new Reply<>(targets.get(i), null, failure));
            }
        }
        return replies;
    }

    /**
     * The first operation waits, at most the operation timeout, until a quorum of masters is
     * connected: connecting (and, in a new JVM, loading the client library) would otherwise eat the
     * per-node timeouts of a healthy cluster. Later operations never wait for connections.
     */
    private void awaitFirstConnections() {
        if (connected.getCount() == 0 || firstConnectionsAwaited) {
            return;
        }
        try {
            connected.await(operationTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            firstConnectionsAwaited = true;
        }
    }

    private IllegalStateException noQuorum(List<? extends Reply<?>> replies) {
        String failures = replies.stream().filter(r -> r.failure() != null)
                .sorted(Comparator.comparing(r -> r.node().address()))
                .map(r -> r.node().address() + ": " + r.failure().getMessage())
                .collect(Collectors.joining("; "));
        long answered = replies.stream().filter(r -> r.failure() == null).count();
        return new IllegalStateException("only " + answered + " of " + nodes.size() + " Redis masters answered, "
                + "a quorum is " + quorum + " (" + failures + ")");
    }

    private record Reply<T>(RedisNode node, T value, RuntimeException failure) {
    }
}
