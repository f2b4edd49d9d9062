package io.dlm4j.engine;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.RefreshResult;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A lock store on the test's ticker whose replies the test scripts: each operation takes the next
 * step queued for it (apply and answer, apply and never answer, fail, wait for a latch), or just
 * applies when none is queued. Like a real client library, it refuses to wait on an interrupted
 * thread: a call made with the interrupt flag set fails at once, keeping the flag.
 */
final class ScriptedStore implements LockStore {

    /** What an operation does: {@code apply} changes the table and returns the reply. */
    @FunctionalInterface
    interface Step {
        Object run(Supplier<Object> apply) throws Exception;
    }

    private record Hold(String owner, long token, long expiresAtNanos, String createdBy) {
    }

    private final ManualTicker ticker;
    private final Map<String, Hold> holds = new HashMap<>(); // guarded by this
    private final Map<String, Long> counters = new HashMap<>(); // guarded by this
    private final Map<String, Deque<Step>> scripts = new HashMap<>(); // guarded by scripts
    private final Map<String, List<Runnable>> listeners = new HashMap<>(); // guarded by this
    final List<String> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger inProgress = new AtomicInteger();
    volatile boolean marksAttempts = true;
    /** As the stores before the safety rules: a relock or refresh sets now + ttl, even if shorter. */
    volatile boolean shortensHolds;
    volatile boolean closed;
    volatile boolean calledWhileClosedOrClosedUnderACall;

    ScriptedStore(ManualTicker ticker) {
        this.ticker = ticker;
    }

    // ---------------------------------------------------------------- scripting

    /** Queues {@code step} for the next call of {@code operation} ("acquire", "refresh", "release", "onRelease", "read", "ping"). */
    ScriptedStore next(String operation, Step step) {
        synchronized (scripts) {
            scripts.computeIfAbsent(operation, o -> new ArrayDeque<>()).addLast(step);
        }
        return this;
    }

    /** A step that applies, says so on {@code applied}, then waits for a reply that only {@code reply} lets through. */
    static Step applyThenWait(CountDownLatch applied, CountDownLatch reply) {
        return apply -> {
            Object answer = apply.get();
            applied.countDown();
            awaitLikeAClient(reply);
            return answer;
        };
    }

    /** A step that applies, then fails as a client library does on a reply that never came. */
    static Step applyThenTimeOut() {
        return apply -> {
            apply.get();
            throw new IllegalStateException("no answer within 1s (scripted)");
        };
    }

    /** A step that signals {@code entered}, waits for {@code go}, then applies. */
    static Step waitThenApply(CountDownLatch entered, CountDownLatch go) {
        return apply -> {
            entered.countDown();
            awaitLikeAClient(go);
            return apply.get();
        };
    }

    static Step fail(RuntimeException failure) {
        return apply -> {
            throw failure;
        };
    }

    private static void awaitLikeAClient(CountDownLatch latch) {
        try {
            if (!latch.await(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no answer (scripted latch never opened)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the scripted store", e);
        }
    }

    // ---------------------------------------------------------------- inspection

    synchronized Optional<StoredHold> peek(String key) {
        Hold hold = holds.get(key);
        long now = ticker.read();
        return hold == null || hold.expiresAtNanos - now <= 0 ? Optional.empty()
                : Optional.of(new StoredHold(hold.owner, hold.token, Duration.ofNanos(hold.expiresAtNanos - now)));
    }

    /** Deletes the record, as a cleanup of old records would; the counter stays. */
    void drop(String key) {
        synchronized (this) {
            holds.remove(key);
        }
        notifyReleased(key);
    }

    long count(String prefix) {
        return calls.stream().filter(c -> c.startsWith(prefix)).count();
    }

    // ---------------------------------------------------------------- the store

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, null);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        return (Acquisition) run("acquire", key + " " + owner, () -> applyAcquire(key, owner, ttl, attempt));
    }

    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        if (!marksAttempts) {
            return Undo.UNSUPPORTED;
        }
        return (Undo) run("undo", key + " " + owner, () -> {
            synchronized (this) {
                Hold hold = holds.get(key);
                if (hold == null || !hold.owner.equals(owner) || !attempt.equals(hold.createdBy)) {
                    return Undo.NOTHING_TO_UNDO;
                }
                holds.remove(key);
            }
            notifyReleased(key);
            return Undo.RELEASED;
        });
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        @SuppressWarnings("unchecked")
        Optional<Duration> result = (Optional<Duration>) run("refresh", key + " " + owner, () -> applyRefresh(key, owner, ttl));
        return result;
    }

    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> batch) {
        @SuppressWarnings("unchecked")
        List<Optional<Duration>> result = (List<Optional<Duration>>) run("refresh", batch.size() + " holds", () -> {
            if (batch.stream().anyMatch(hold -> undecided.contains(hold.key()))) {
                throw new IllegalStateException("undecided (scripted)");
            }
            List<Optional<Duration>> answers = new ArrayList<>();
            for (HoldToRefresh hold : batch) {
                answers.add(applyRefresh(hold.key(), hold.owner(), hold.ttl()));
            }
            return answers;
        });
        return result;
    }

    /**
     * Keys whose refresh this store cannot decide (as Redlock with neither a majority extending nor
     * refusing): {@link #refreshEach} answers undecided for them and leaves them as they are;
     * {@link #refreshAll}, which has no such answer, fails the whole batch, as Redlock's did.
     */
    final java.util.Set<String> undecided = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public List<RefreshResult> refreshEach(List<HoldToRefresh> batch) {
        @SuppressWarnings("unchecked")
        List<RefreshResult> result = (List<RefreshResult>) run("refresh", batch.size() + " holds", () -> {
            List<RefreshResult> answers = new ArrayList<>();
            for (HoldToRefresh hold : batch) {
                answers.add(undecided.contains(hold.key())
                        ? RefreshResult.undecided(new IllegalStateException("undecided (scripted)"))
                        : applyRefresh(hold.key(), hold.owner(), hold.ttl())
                                .map(RefreshResult::extended).orElseGet(RefreshResult::notHeld));
            }
            return answers;
        });
        return result;
    }

    @Override
    public int refreshBatchSize() {
        return 100;
    }

    @Override
    public boolean release(String key, String owner) {
        return (Boolean) run("release", key + " " + owner, () -> {
            boolean released;
            synchronized (this) {
                Hold hold = holds.get(key);
                released = hold != null && hold.owner.equals(owner);
                if (released) {
                    holds.remove(key);
                }
            }
            if (released) {
                notifyReleased(key);
            }
            return released;
        });
    }

    @Override
    public Optional<StoredHold> read(String key) {
        @SuppressWarnings("unchecked")
        Optional<StoredHold> hold = (Optional<StoredHold>) run("read", key, () -> peek(key));
        return hold;
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        run("onRelease", key, () -> {
            synchronized (this) {
                listeners.computeIfAbsent(key, k -> new ArrayList<>()).add(wake);
            }
            return Boolean.TRUE;
        });
        return () -> {
            calls.add("unsubscribe " + key);
            if (closed) {
                calledWhileClosedOrClosedUnderACall = true;
            }
            synchronized (this) {
                listeners.getOrDefault(key, new ArrayList<>()).remove(wake);
            }
        };
    }

    @Override
    public Duration ping() {
        run("ping", "", () -> Boolean.TRUE);
        return Duration.ZERO;
    }

    @Override
    public String describe() {
        return "scripted store";
    }

    @Override
    public void close() {
        if (inProgress.get() > 0) {
            calledWhileClosedOrClosedUnderACall = true;
        }
        closed = true;
        calls.add("close");
    }

    private Object run(String operation, String args, Supplier<Object> apply) {
        calls.add(operation + " " + args + (Thread.currentThread().isInterrupted() ? " [interrupted]" : ""));
        if (closed) {
            calledWhileClosedOrClosedUnderACall = true;
            throw new IllegalStateException("the scripted client is closed");
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException("interrupted while waiting for the scripted store");
        }
        Step step;
        synchronized (scripts) {
            Deque<Step> queued = scripts.get(operation);
            step = queued == null ? null : queued.pollFirst();
        }
        inProgress.incrementAndGet();
        try {
            return step == null ? apply.get() : step.run(apply);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            inProgress.decrementAndGet();
        }
    }

    private synchronized Acquisition applyAcquire(String key, String owner, Duration ttl, String attempt) {
        long now = ticker.read();
        Hold hold = holds.get(key);
        if (hold != null && hold.expiresAtNanos - now > 0) {
            if (!hold.owner.equals(owner)) {
                return Acquisition.heldBy(new StoredHold(hold.owner, hold.token, Duration.ofNanos(hold.expiresAtNanos - now)));
            }
            Hold extended = extend(hold, now, ttl);
            holds.put(key, extended);
            return Acquisition.refreshed(new StoredHold(owner, hold.token, Duration.ofNanos(extended.expiresAtNanos - now)));
        }
        long token = counters.merge(key, 1L, Long::sum);
        holds.put(key, new Hold(owner, token, now + ttl.toNanos(), attempt));
        return Acquisition.acquired(new StoredHold(owner, token, ttl));
    }

    private synchronized Optional<Duration> applyRefresh(String key, String owner, Duration ttl) {
        long now = ticker.read();
        Hold hold = holds.get(key);
        if (hold == null || hold.expiresAtNanos - now <= 0 || !hold.owner.equals(owner)) {
            return Optional.empty();
        }
        Hold extended = extend(hold, now, ttl);
        holds.put(key, extended);
        return Optional.of(Duration.ofNanos(extended.expiresAtNanos - now));
    }

    private Hold extend(Hold hold, long now, Duration ttl) {
        long candidate = now + ttl.toNanos();
        long expiry = shortensHolds || candidate - hold.expiresAtNanos > 0 ? candidate : hold.expiresAtNanos;
        return new Hold(hold.owner, hold.token, expiry, null);
    }

    private void notifyReleased(String key) {
        List<Runnable> toWake;
        synchronized (this) {
            toWake = List.copyOf(listeners.getOrDefault(key, List.of()));
        }
        toWake.forEach(Runnable::run);
    }
}
