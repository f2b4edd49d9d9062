package io.dlm4j.redis;

import io.dlm4j.redis.QuorumCall.Reply;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.Acquisition.Outcome;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.RefreshResult;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

import static io.dlm4j.redis.RedisLockStore.millis;

/**
 * The Redlock algorithm on N independent Redis masters: every operation goes to all of them in
 * parallel, each with a per-node timeout small against the ttl, and counts only with a majority
 * (N/2 + 1) within the validity time, ttl - elapsed - drift (drift = 1% of the ttl + 2 ms).
 *
 * <h2>Fencing tokens across a quorum</h2>
 * No single master is authoritative, so no single counter can issue the token. Each master keeps a
 * fence counter that the acquire script raises (INCR) when it grants a new hold, and returns.
 * <ol>
 *   <li>The token of a new hold is the maximum of the counters returned by the majority G that
 *       granted it (plus one if some of G already held the lock for the owner, whose counter that
 *       round did not raise).</li>
 *   <li>Before the token is handed out, it is recorded on a majority W of masters while the hold is
 *       still ours there (a script that checks the owner, raises the counter to at least the token
 *       and stores it with the hold). If that fails, the acquisition fails and is cleaned up.</li>
 * </ol>
 * Claim: a token T is greater than every token T' handed out before. T' was stored on a majority
 * W' while its owner held the lock on those masters. G and W' are majorities of the same N, so they
 * share a master m. On m, our hold came after the hold of T' ended, so our INCR on m ran after T'
 * was recorded there: m's counter was at least T' and our INCR made it at least T' + 1. T is the
 * maximum over G, which includes m, so T &gt; T'. The argument needs the counters to survive restarts
 * (Redis persistence with appendfsync always), as Redlock's own safety does.
 *
 * <h2>The owner rule: which token a relock reports</h2>
 * A relock (the owner acquires what it holds) keeps the hold's token. The hold's token is the one
 * that a quorum of masters stores now: the relock reports T only if at least N/2 + 1 masters
 * answered that they hold the lock for the owner with token T. A master whose copy lapsed (it
 * grants a new copy) and a master with a copy only it has (a late acquire that landed there and
 * took a higher counter) are outvoted, and then given T, so that they agree again. T stored on a
 * quorum means the counters of a quorum are at least T, so the next holder's token is greater than
 * T by the claim above. If the owner holds the lock on a quorum but no token has a quorum (say one
 * master is down and the two others disagree), no token can be trusted: the round makes a new hold
 * with a new token, as in the list above, recorded on a quorum before it is reported.
 *
 * <h2>Cleanup after a failed attempt</h2>
 * Every copy that an acquire creates carries that attempt's mark ({@link HoldValue}) until the
 * owner relocks or refreshes it. A failed attempt (fewer than a quorum, granted too late, token not
 * recorded) and {@link #undoAcquire} remove only copies that still carry its mark: never a copy that
 * answered "yours already" (the owner's live hold). The undo travels on each master's connection
 * after the acquire, so an acquire that lands late on a hung master is removed there once it lands.
 *
 * <h2>Late answers</h2>
 * A round in which fewer than a quorum answered because the others answered too late (not refused,
 * not unreachable) does not acquire, and asks to be tried again (the engine retries in lock();
 * tryLock is empty), until the masters have been silent for the operation timeout: then it is a
 * backend failure ({@link QuorumCall} keeps when the masters last answered). Each round still
 * waits at most the per-node timeout, so no call hangs.
 */
final class RedlockLockStore implements LockStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedlockLockStore.class);
    private static final Duration MIN_NODE_TIMEOUT = Duration.ofMillis(100);
    private static final Duration MAX_NODE_TIMEOUT = Duration.ofSeconds(1);

    private final List<RedlockMaster> nodes;
    private final RedisKeys keys;
    private final int quorum;
    private final Duration operationTimeout;
    private final LongSupplier nanoTime;
    /** Subscriptions and pings block; they run here so that a hung master holds up no caller. */
    private final ExecutorService blockingCalls;
    /** Sends each operation to every master (or the granting ones) and collects their answers. */
    private final QuorumCall quorumCall;
    /** Marks for acquires that come without the engine's attempt id. */
    private final String ownAttempts = "redlock-" + Long.toHexString(new SecureRandom().nextLong());
    private final AtomicLong ownAttemptCount = new AtomicLong();

    RedlockLockStore(List<RedisNode> nodes, RedisKeys keys, Duration operationTimeout) {
        this(nodes.stream().<RedlockMaster>map(OrderedRedisMaster::new).toList(), keys, operationTimeout,
                System::nanoTime);
    }

    /** @param nanoTime the clock of the validity times and of the silence of the masters */
    RedlockLockStore(List<RedlockMaster> masters, RedisKeys keys, Duration operationTimeout, LongSupplier nanoTime) {
        this.nodes = List.copyOf(masters);
        this.keys = keys;
        this.operationTimeout = operationTimeout;
        this.nanoTime = nanoTime;
        this.blockingCalls = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "dlm4j-redlock-blocking");
            thread.setDaemon(true);
            return thread;
        });
        this.quorumCall = new QuorumCall(this.nodes, operationTimeout, nanoTime);
        this.quorum = quorumCall.quorum();
    }

    int quorum() {
        return quorum;
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, ownAttempts + "-" + ownAttemptCount.incrementAndGet());
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        HoldValue.checkAttempt(attempt);
        String[] lock = keys.of(key);
        Duration nodeTimeout = nodeTimeout(ttl);
        long start = nanoTime.getAsLong();
        List<Reply<NodeReply>> replies = quorumCall.ask(node -> node.acquire(lock, owner, millis(ttl), attempt),
                nodeTimeout);
        List<Reply<NodeReply>> granted = replies.stream()
                .filter(r -> r.value() != null && r.value().outcome() != Outcome.HELD).toList();
        if (granted.size() >= quorum) {
            Optional<Acquisition> ours = relockOrNewHold(granted, lock, owner, ttl, attempt, start, nodeTimeout);
            if (ours.isPresent()) {
                return ours.get();
            }
        }
        undoAwaitingEvenIfInterrupted(key, owner, attempt);
        return notAcquired(replies);
    }

    /**
     * The cleanup of a failed attempt, its answers awaited with the interrupt flag cleared (and set
     * again after): an interrupted caller that left before the masters ran the undo would let a
     * reader on another connection see the attempt's hold, which the undo then ends behind its back.
     */
    private void undoAwaitingEvenIfInterrupted(String key, String owner, String attempt) {
        boolean interrupted = Thread.interrupted();
        try {
            undoEverywhere(key, owner, attempt);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The owner rule of the class comment; empty if the hold could not be made valid in time. */
    private Optional<Acquisition> relockOrNewHold(List<Reply<NodeReply>> granted, String[] lock, String owner,
                                                  Duration ttl, String attempt, long start, Duration nodeTimeout) {
        Optional<Long> agreed = tokenOfAQuorum(granted.stream().map(Reply::value)
                .filter(r -> r.outcome() == Outcome.REFRESHED).toList());
        if (agreed.isPresent()) {
            long token = agreed.get();
            Duration validity = validity(quorumLasts(granted.stream().map(Reply::value)
                    .filter(r -> r.outcome() == Outcome.REFRESHED && r.token() == token)
                    .map(NodeReply::remainingMs).toList()), start);
            if (!isPositive(validity)) {
                return Optional.empty();
            }
            bringInLine(granted, lock, owner, token);
            return Optional.of(Acquisition.refreshed(new StoredHold(owner, token, validity)));
        }
        boolean allNew = granted.stream().allMatch(r -> r.value().outcome() == Outcome.ACQUIRED);
        long highest = granted.stream().mapToLong(r -> r.value().fence()).max().orElseThrow();
        long token = allNew ? highest : highest + 1; // an owner's old copy raised no counter this round
        if (!recorded(granted, lock, owner, token, attempt, nodeTimeout)) {
            return Optional.empty();
        }
        Duration validity = validity(ttl, start);
        return isPositive(validity)
                ? Optional.of(Acquisition.acquired(new StoredHold(owner, token, validity)))
                : Optional.empty();
    }

    /** The token that at least a quorum of these copies share, if one does. */
    private Optional<Long> tokenOfAQuorum(List<NodeReply> copies) {
        return copies.stream().collect(Collectors.groupingBy(NodeReply::token, Collectors.counting()))
                .entrySet().stream().filter(e -> e.getValue() >= quorum).map(Map.Entry::getKey).findFirst();
    }

    /**
     * Gives the agreed token to the granting masters that answered another one (a lapsed copy made
     * anew, a late acquire's copy), so that they count for it next time. Not waited for: the relock
     * stands on the quorum that agreed, and each master gets it after this round's acquire.
     */
    private void bringInLine(List<Reply<NodeReply>> granted, String[] lock, String owner, long token) {
        for (Reply<NodeReply> reply : granted) {
            if (reply.value().outcome() != Outcome.REFRESHED || reply.value().token() != token) {
                // no attempt may undo the copy once it carries the owner's token: no mark matches ''
                reply.node().recordToken(lock, owner, token, "").whenComplete((done, failure) -> {
                    if (failure != null) {
                        LOG.debug("Redis at {} did not take the relocked token {}", reply.node().address(), token, failure);
                    }
                });
            }
        }
    }

    /** Records the token on a majority while the hold is ours there; see the class comment. */
    private boolean recorded(List<Reply<NodeReply>> granted, String[] lock, String owner, long token,
                             String attempt, Duration nodeTimeout) {
        List<RedlockMaster> granting = granted.stream().map(Reply::node).toList();
        return quorumCall.ask(granting, node -> node.recordToken(lock, owner, token, attempt), nodeTimeout).stream()
                .filter(r -> Boolean.TRUE.equals(r.value())).count() >= quorum;
    }

    private Acquisition notAcquired(List<Reply<NodeReply>> replies) {
        List<NodeReply> held = replies.stream().map(Reply::value)
                .filter(r -> r != null && r.outcome() == Outcome.HELD).toList();
        long failed = replies.stream().filter(r -> r.failure() != null).count();
        if (held.isEmpty() && failed > nodes.size() - quorum) {
            if (!quorumCall.lateAnswersStillExcused(replies)) {
                throw quorumCall.noQuorum(replies);
            }
            return Acquisition.heldBy(new StoredHold("(no owner: too few masters answered in time)", 0, Duration.ZERO));
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

    /** Removes, on every master, only the copies that {@code attempt} made and nothing touched since. */
    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        List<Reply<Boolean>> replies = undoEverywhere(key, owner, HoldValue.checkAttempt(attempt));
        if (replies.stream().anyMatch(r -> Boolean.TRUE.equals(r.value()))) {
            return Undo.RELEASED;
        }
        if (replies.stream().anyMatch(r -> r.failure() != null)) {
            throw quorumCall.noQuorum(replies); // a master that did not answer may still have the attempt's copy
        }
        return Undo.NOTHING_TO_UNDO;
    }

    private List<Reply<Boolean>> undoEverywhere(String key, String owner, String attempt) {
        String[] lock = keys.of(key);
        String channel = keys.channel(key);
        return quorumCall.ask(node -> node.undo(lock, owner, attempt, channel), nodeTimeout(operationTimeout));
    }

    /** A batch of one: the decision (extended, lost or undecided) lives once, in {@link #refreshEach}. */
    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return refreshAll(List.of(new HoldToRefresh(key, owner, ttl))).get(0);
    }

    /** As {@link #refreshEach}; an undecided hold fails the call, as the SPI's older form must. */
    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        List<Optional<Duration>> results = new ArrayList<>(holds.size());
        for (RefreshResult result : refreshEach(holds)) {
            switch (result.outcome()) {
                case EXTENDED -> results.add(Optional.of(result.remaining()));
                case NOT_HELD -> results.add(Optional.empty());
                case UNDECIDED -> throw result.failure();
            }
        }
        return results;
    }

    /**
     * One many-locks script per master, in parallel, decided per hold: extended if a majority
     * extended it within its validity time (the time a majority has left, less elapsed and drift),
     * not held if a majority refused it, and otherwise undecided, which fails that hold only: the
     * engine retries it next period, and it is lost only at its local expiry.
     */
    @Override
    public List<RefreshResult> refreshEach(List<HoldToRefresh> holds) {
        RefreshBatch batch = RefreshBatch.of(holds, keys);
        Duration shortestTtl = holds.stream().map(HoldToRefresh::ttl).min(Comparator.naturalOrder()).orElseThrow();
        long start = nanoTime.getAsLong();
        List<Reply<List<Long>>> replies = quorumCall.ask(node -> node.refreshAll(batch.locks(), batch.ownersAndTtls()),
                nodeTimeout(shortestTtl));
        List<Reply<List<Long>>> answered = replies.stream().map(r -> checkedSize(r, holds.size())).toList();
        List<RefreshResult> results = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            int index = i;
            List<Long> extended = answered.stream().filter(r -> r.value() != null && r.value().get(index) > 0)
                    .map(r -> r.value().get(index)).toList();
            long refused = answered.stream().filter(r -> r.value() != null && r.value().get(index) == 0).count();
            Duration validity = extended.size() >= quorum ? validity(quorumLasts(extended), start) : Duration.ZERO;
            if (isPositive(validity)) {
                results.add(RefreshResult.extended(validity));
            } else if (refused > nodes.size() - quorum) {
                results.add(RefreshResult.notHeld()); // a majority says the hold is not ours: it is lost
            } else {
                results.add(RefreshResult.undecided(undecided(answered, extended.size(), refused)));
            }
        }
        return results;
    }

    /** A master that answered the wrong number of values counts as one that failed. */
    private static Reply<List<Long>> checkedSize(Reply<List<Long>> reply, int holds) {
        if (reply.value() == null || reply.value().size() == holds) {
            return reply;
        }
        return new Reply<>(reply.node(), null, new IllegalStateException("answered " + reply.value().size()
                + " values for " + holds + " locks"), false);
    }

    private IllegalStateException undecided(List<Reply<List<Long>>> replies, long extended, long refused) {
        if (!quorumCall.aQuorumAnswered(replies)) {
            return quorumCall.noQuorum(replies);
        }
        return new IllegalStateException(extended + " of " + nodes.size() + " Redis masters extended the hold and "
                + refused + " refused it" + (extended >= quorum ? ", too late to be valid" : "")
                + "; a quorum is " + quorum);
    }

    @Override
    public int refreshBatchSize() {
        return RefreshBatch.SIZE;
    }

    @Override
    public boolean release(String key, String owner) {
        String[] lock = keys.of(key);
        String channel = keys.channel(key);
        List<Reply<Boolean>> replies = quorumCall.ask(node -> node.release(lock, owner, channel),
                nodeTimeout(operationTimeout));
        if (!quorumCall.aQuorumAnswered(replies)) {
            throw quorumCall.noQuorum(replies);
        }
        return replies.stream().filter(r -> Boolean.TRUE.equals(r.value())).count() >= quorum;
    }

    /** The owner that holds the lock on a quorum, with the token a quorum stores (or else the highest). */
    @Override
    public Optional<StoredHold> read(String key) {
        String[] lock = keys.of(key);
        List<Reply<Optional<NodeReply>>> replies = quorumCall.ask(node -> node.read(lock),
                nodeTimeout(operationTimeout));
        if (!quorumCall.aQuorumAnswered(replies)) {
            throw quorumCall.noQuorum(replies);
        }
        Map<String, List<NodeReply>> byOwner = replies.stream().map(Reply::value)
                .filter(r -> r != null && r.isPresent()).map(Optional::get)
                .collect(Collectors.groupingBy(NodeReply::owner));
        return byOwner.values().stream().filter(holds -> holds.size() >= quorum).findFirst()
                .map(holds -> new StoredHold(holds.get(0).owner(),
                        tokenOfAQuorum(holds).orElseGet(() -> holds.stream().mapToLong(NodeReply::token).max().orElseThrow()),
                        Duration.ofMillis(quorumLasts(holds.stream().map(NodeReply::remainingMs).toList()).toMillis())));
    }

    /** How long at least a quorum of these copies last: the quorum-th longest of their times left (ms). */
    private Duration quorumLasts(List<Long> millisLeft) {
        List<Long> longestFirst = millisLeft.stream().sorted(Comparator.reverseOrder()).toList();
        return Duration.ofMillis(Math.max(0, longestFirst.get(Math.min(quorum, longestFirst.size()) - 1)));
    }

    private static boolean isPositive(Duration duration) {
        return !duration.isNegative() && !duration.isZero();
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
        List<Reply<String>> replies = quorumCall.ask(node -> CompletableFuture.supplyAsync(() -> {
            node.ping();
            return "PONG";
        }, blockingCalls), operationTimeout);
        if (!quorumCall.aQuorumAnswered(replies)) {
            throw quorumCall.noQuorum(replies);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public String describe() {
        return "Redlock on " + nodes.size() + " Redis masters (quorum " + quorum + ") at "
                + nodes.stream().map(RedlockMaster::address).collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        quorumCall.stopWaitingForConnections();
        RuntimeException failure = null;
        for (RedlockMaster node : nodes) {
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

    /** {@code lasts} (a ttl, or the time a quorum has left) less the time since start and the drift. */
    private Duration validity(Duration lasts, long startNanos) {
        Duration drift = Duration.ofMillis(lasts.toMillis() / 100 + 2);
        return lasts.minusNanos(nanoTime.getAsLong() - startNanos).minus(drift);
    }
}
