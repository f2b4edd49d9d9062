package io.dlm4j.redis;

import io.dlm4j.spi.Replies;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * One operation sent to every Redlock master at once, its answers collected within a limit and
 * counted against the majority (N/2 + 1). It also keeps what a single round cannot know: whether
 * the masters have been silent for the operation timeout, which turns late answers from "try
 * again" into a backend failure.
 */
final class QuorumCall {

    private final List<RedlockMaster> masters;
    private final int quorum;
    private final Duration operationTimeout;
    private final LongSupplier nanoTime;
    private final CountDownLatch connected;
    private volatile boolean firstConnectionsAwaited;
    /** When a quorum of masters last answered a round in time (at first: when the store was made). */
    private final AtomicLong lastAnswered = new AtomicLong();

    /** @param nanoTime the clock of the silence of the masters */
    QuorumCall(List<RedlockMaster> masters, Duration operationTimeout, LongSupplier nanoTime) {
        this.masters = List.copyOf(masters);
        this.quorum = masters.size() / 2 + 1;
        this.operationTimeout = operationTimeout;
        this.nanoTime = nanoTime;
        this.lastAnswered.set(nanoTime.getAsLong());
        this.connected = new CountDownLatch(quorum);
        for (RedlockMaster master : this.masters) {
            master.connectInBackground().thenRun(connected::countDown);
        }
    }

    int quorum() {
        return quorum;
    }

    /** True if at least a quorum of {@code replies} are answers rather than failures. */
    boolean aQuorumAnswered(List<? extends Reply<?>> replies) {
        return replies.stream().filter(r -> r.failure() == null).count() >= quorum;
    }

    /** Sends {@code operation} to every master at once and collects what arrived within {@code limit}. */
    <T> List<Reply<T>> ask(Function<RedlockMaster, CompletableFuture<T>> operation, Duration limit) {
        return ask(masters, operation, limit);
    }

    /** Sends {@code operation} to each of {@code targets} at once and collects what arrived within {@code limit}. */
    <T> List<Reply<T>> ask(List<RedlockMaster> targets, Function<RedlockMaster, CompletableFuture<T>> operation,
                           Duration limit) {
        awaitFirstConnections();
        long deadline = System.nanoTime() + limit.toNanos();
        List<CompletableFuture<T>> pending = new ArrayList<>();
        for (RedlockMaster master : targets) {
            try {
                pending.add(operation.apply(master));
            } catch (RuntimeException e) {
                pending.add(CompletableFuture.failedFuture(e));
            }
        }
        List<Reply<T>> replies = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            try {
                replies.add(new Reply<>(targets.get(i), Replies.await(pending.get(i), left, "Redis"), null, false));
            } catch (RuntimeException e) {
                // the time left for this master says nothing to a reader; the limit all of them had does
                boolean late = e.getCause() instanceof TimeoutException;
                RuntimeException failure = late
                        ? new IllegalStateException("no answer within " + limit.toMillis() + " ms", e.getCause())
                        : e;
                replies.add(new Reply<>(targets.get(i), null, failure, late));
            }
        }
        if (aQuorumAnswered(replies)) {
            lastAnswered.set(nanoTime.getAsLong()); // the masters are not silent
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

    /**
     * True if the quorum was missed only because masters answered too late (refusals and
     * unreachable masters alone do not make up the shortfall), and the masters have not been silent
     * for the operation timeout yet: some round of any operation had a quorum of answers in time
     * less than that ago.
     */
    boolean lateAnswersStillExcused(List<? extends Reply<?>> replies) {
        long refused = replies.stream().filter(r -> r.failure() != null && !r.late()).count();
        if (refused > masters.size() - quorum) {
            return false;
        }
        return nanoTime.getAsLong() - lastAnswered.get() < operationTimeout.toNanos();
    }

    IllegalStateException noQuorum(List<? extends Reply<?>> replies) {
        String failures = replies.stream().filter(r -> r.failure() != null)
                .sorted(Comparator.comparing(r -> r.node().address()))
                .map(r -> r.node().address() + ": " + r.failure().getMessage())
                .collect(Collectors.joining("; "));
        long answered = replies.stream().filter(r -> r.failure() == null).count();
        return new IllegalStateException("only " + answered + " of " + masters.size() + " Redis masters answered, "
                + "a quorum is " + quorum + " (" + failures + ")");
    }

    /** A first operation still waiting for connections goes on, and fails. */
    void stopWaitingForConnections() {
        while (connected.getCount() > 0) {
            connected.countDown();
        }
    }

    /**
     * What one master answered to one call: its value, or the failure.
     *
     * @param late true if the master did not answer within the limit (rather than failing)
     */
    record Reply<T>(RedlockMaster node, T value, RuntimeException failure, boolean late) {
    }
}
