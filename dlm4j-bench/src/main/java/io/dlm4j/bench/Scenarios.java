package io.dlm4j.bench;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.MutexOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** The measurements, each run in one fork against one library; each returns one result as a map. */
final class Scenarios {

    /** How long the holder keeps the lock in the polite (h4) scenario. */
    static final Duration POLITE_HOLD = Duration.ofMillis(2);

    private Scenarios() {
    }

    /** Timing of a run: an untimed lead-in at full load, then the measured part. */
    record Timing(Duration leadIn, Duration measure) {
    }

    /**
     * Load in the background until stopped: {@code threads} threads, each on its own key and owner,
     * acquiring and releasing as fast as they can. Used to warm up.
     */
    static Runnable backgroundLoad(LockClient client, int threads, String keyPrefix) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        for (int t = 0; t < threads; t++) {
            LockClient.LockHandle h = client.handle(keyPrefix + t, "warm-" + t);
            Thread w = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        h.lock();
                        h.unlock();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "warm-" + t);
            w.setDaemon(true);
            w.start();
            workers.add(w);
        }
        return () -> {
            stop.set(true);
            for (Thread w : workers) {
                try {
                    w.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failure.get() != null) {
                throw new IllegalStateException("warm-up failed: " + failure.get(), failure.get());
            }
        };
    }

    /**
     * Uncontended: {@code threads} threads, each on its own key with its own owner: acquire+release
     * operations per second and acquire latency.
     */
    static Map<String, Object> uncontended(LockClient client, ServerCounter counter, int threads, Timing timing,
                                           String name) throws Exception {
        Run run = new Run(threads, timing, counter);
        List<LockClient.LockHandle> handles = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            handles.add(client.handle(name + "-" + t, "owner-" + t));
        }
        run.execute(t -> {
            LockClient.LockHandle h = handles.get(t);
            Samples acquire = run.acquireSamples.get(t);
            Samples release = run.releaseSamples.get(t);
            while (!run.stopped()) {
                long start = System.nanoTime();
                h.lock();
                long got = System.nanoTime();
                h.unlock();
                long released = System.nanoTime();
                if (run.recording()) {
                    acquire.add(got - start);
                    release.add(released - got);
                    run.ops.incrementAndGet();
                }
            }
        });
        return run.result(name);
    }

    /**
     * Contended: {@code threads} threads with separate owners on one key. Handoff latency is from the
     * start of the holder's release call to the next holder's acquire returning (both in this JVM,
     * on System.nanoTime); the owner-change share is how many acquisitions went to another owner than
     * the previous holder.
     *
     * <p>{@code polite}: the holder keeps the lock for {@link #POLITE_HOLD} (so that the others are
     * really waiting when it lets go), and a thread that released waits (in this JVM, not on the
     * backend) until another thread took the lock, up to a second, before it tries again. Then every
     * handoff goes to a waiter, and the handoff latency is how fast the library wakes one, undisturbed
     * by the releasing thread winning its own lock back (which a greedy loop on a polling lock does
     * nearly every time).
     */
    static Map<String, Object> contended(LockClient client, ServerCounter counter, int threads, Timing timing,
                                         String name, boolean polite) throws Exception {
        Run run = new Run(threads, timing, counter);
        List<LockClient.LockHandle> handles = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            handles.add(client.handle(name, "owner-" + t));
        }
        AtomicInteger changes = new AtomicInteger();
        // Written by the holder only, read by the next holder after its acquire returns.
        long[] releaseStart = {0};
        int[] lastHolder = {-1};
        Object fence = new Object();
        run.execute(t -> {
            LockClient.LockHandle h = handles.get(t);
            Samples acquire = run.acquireSamples.get(t);
            Samples handoff = run.handoffSamples.get(t);
            Samples changedHandoff = run.changedHandoffSamples.get(t);
            while (!run.stopped()) {
                long start = System.nanoTime();
                h.lock();
                long got = System.nanoTime();
                int previous;
                long released;
                synchronized (fence) { // uncontended in effect: only the holder gets here
                    previous = lastHolder[0];
                    released = releaseStart[0];
                    lastHolder[0] = t;
                    fence.notifyAll();
                }
                if (polite) {
                    Thread.sleep(POLITE_HOLD.toMillis()); // the critical section
                }
                if (run.recording() && previous >= 0) {
                    acquire.add(got - start);
                    handoff.add(got - released);
                    if (previous != t) {
                        changes.incrementAndGet();
                        changedHandoff.add(got - released);
                    }
                    run.ops.incrementAndGet();
                }
                synchronized (fence) {
                    releaseStart[0] = System.nanoTime();
                }
                h.unlock();
                if (polite) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                    synchronized (fence) {
                        long left;
                        while (lastHolder[0] == t && !run.stopped() && (left = deadline - System.nanoTime()) > 0) {
                            fence.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                        }
                    }
                }
            }
        });
        Map<String, Object> r = run.result(name);
        long ops = run.ops.get();
        r.put("ownerChangeShare", ops == 0 ? Double.NaN : changes.get() / (double) ops);
        return r;
    }

    /**
     * Round trips: {@code n} distinct locks acquired one after another, then released, with the
     * server's counters read around each phase; and the keys that stay behind after the releases.
     */
    static Map<String, Object> cost(LockClient client, ServerCounter counter, int n, String name) throws Exception {
        List<LockClient.LockHandle> handles = new ArrayList<>();
        long keysBeforeFirstUse = counter.keys();
        for (int i = 0; i < n; i++) {
            handles.add(client.handle(name + "-" + i, "owner-cost"));
        }
        // Each lock once before counting: the steady state of a lock name that is used again and
        // again, not the one-time set-up of a new name (dlm4j on MongoDB stamps a new name's epoch).
        for (LockClient.LockHandle h : handles) {
            h.lock();
            h.unlock();
        }
        long keysBefore = counter.keys();
        Map<String, Long> c0 = counter.commands();
        Map<String, Long> s0 = counter.serverCommands();
        for (LockClient.LockHandle h : handles) {
            h.lock();
        }
        Map<String, Long> c1 = counter.commands();
        Map<String, Long> s1 = counter.serverCommands();
        for (LockClient.LockHandle h : handles) {
            h.unlock();
        }
        Map<String, Long> c2 = counter.commands();
        Map<String, Long> s2 = counter.serverCommands();
        counter.pause();
        long keysAfter = counter.keys();
        Map<String, Long> acquire = ServerCounter.difference(c1, c0);
        Map<String, Long> release = ServerCounter.difference(c2, c1);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", name);
        r.put("locks", n);
        r.put("commandsPerAcquire", acquire.values().stream().mapToLong(Long::longValue).sum() / (double) n);
        r.put("commandsPerRelease", release.values().stream().mapToLong(Long::longValue).sum() / (double) n);
        r.put("acquireCommands", perLock(acquire, n));
        r.put("releaseCommands", perLock(release, n));
        r.put("keysLeftPerLock", (keysAfter - keysBeforeFirstUse) / (double) n);
        if (!s2.isEmpty()) {
            r.put("serverAcquireCommands", perLock(ServerCounter.difference(s1, s0), n));
            r.put("serverReleaseCommands", perLock(ServerCounter.difference(s2, s1), n));
        }
        return r;
    }

    private static Map<String, Double> perLock(Map<String, Long> commands, int n) {
        Map<String, Double> m = new LinkedHashMap<>();
        commands.forEach((k, v) -> m.put(k, v / (double) n));
        return m;
    }

    /**
     * The cost of auto-refresh: {@code leases} locks held with {@code autoRefresh} and a short ttl
     * (the engine refreshes at about a third of it), and the backend commands per second counted
     * over {@code window} while nothing else runs.
     */
    static Map<String, Object> refresh(Dlm dlm, ServerCounter counter, int leases, Duration ttl, Duration window,
                                       String name) throws Exception {
        AtomicInteger lost = new AtomicInteger();
        ConcurrentLinkedQueue<Lease> held = new ConcurrentLinkedQueue<>();
        int threads = 8;
        CountDownLatch done = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Thread w = new Thread(() -> {
                try {
                    for (int i = first; i < leases; i += threads) {
                        Lease l = dlm.newMutex(MutexOptions.builder(name + "-" + i).owner("refresher")
                                .ttl(ttl).autoRefresh(true).build()).lock();
                        l.onLost(lost::incrementAndGet);
                        held.add(l);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            }, "refresh-acquire-" + t);
            w.setDaemon(true);
            w.start();
        }
        if (!done.await(5, TimeUnit.MINUTES) || failure.get() != null) {
            throw new IllegalStateException("could not acquire " + leases + " leases: " + failure.get(), failure.get());
        }
        double acquireSeconds = (System.nanoTime() - start) / 1e9;
        // Let the refreshes of the acquisition burst spread into their steady rhythm first.
        Thread.sleep(ttl.toMillis() / 3);
        Map<String, Long> c0 = counter.commands();
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis()); // the measurement window itself
        Map<String, Long> c1 = counter.commands();
        double seconds = (System.nanoTime() - t0) / 1e9;
        counter.pause();
        Map<String, Long> d = ServerCounter.difference(c1, c0);
        long total = d.values().stream().mapToLong(Long::longValue).sum();
        double perSecond = total / seconds;
        double periodSeconds = ttl.toMillis() / 3000.0;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", name);
        r.put("leases", leases);
        r.put("ttlMs", ttl.toMillis());
        r.put("refreshPeriodMs", (long) (periodSeconds * 1000));
        r.put("acquireSeconds", acquireSeconds);
        r.put("windowSeconds", seconds);
        r.put("commandsPerSecond", perSecond);
        r.put("commandsPer100LeasesPerPeriod", perSecond * periodSeconds / (leases / 100.0));
        Map<String, Double> perSec = new LinkedHashMap<>();
        d.forEach((k, v) -> perSec.put(k, v / seconds));
        r.put("commandsPerSecondByName", perSec);
        r.put("lost", lost.get());
        return r;
    }

    /** The threads, clock and tallies of one timed run. */
    private static final class Run {
        interface Body {
            void run(int thread) throws Exception;
        }

        final int threads;
        final Timing timing;
        final AtomicInteger ops = new AtomicInteger();
        final List<Samples> acquireSamples = new ArrayList<>();
        final List<Samples> releaseSamples = new ArrayList<>();
        final List<Samples> handoffSamples = new ArrayList<>();
        final List<Samples> changedHandoffSamples = new ArrayList<>();
        private volatile boolean recording;
        private volatile boolean stopped;
        private long measuredNanos;

        private final ServerCounter counter;
        private Map<String, Long> requests = Map.of();

        Run(int threads, Timing timing, ServerCounter counter) {
            this.threads = threads;
            this.timing = timing;
            this.counter = counter;
            for (int t = 0; t < threads; t++) {
                acquireSamples.add(new Samples());
                releaseSamples.add(new Samples());
                handoffSamples.add(new Samples());
                changedHandoffSamples.add(new Samples());
            }
        }

        boolean recording() {
            return recording;
        }

        boolean stopped() {
            return stopped;
        }

        void execute(Body body) throws Exception {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    try {
                        body.run(id);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "bench-" + t);
                w.setDaemon(true); // a library stuck in lock() must not keep the fork alive
                workers.add(w);
            }
            workers.forEach(Thread::start);
            Thread.sleep(timing.leadIn().toMillis()); // the untimed lead-in
            Map<String, Long> before = counter.cheapCommands();
            recording = true;
            long start = System.nanoTime();
            Thread.sleep(timing.measure().toMillis()); // the measured time
            recording = false;
            measuredNanos = System.nanoTime() - start;
            requests = ServerCounter.difference(counter.cheapCommands(), before);
            stopped = true;
            for (Thread w : workers) {
                w.join(15_000);
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a worker failed: " + failure.get(), failure.get());
            }
        }

        Map<String, Object> result(String name) {
            Samples acquire = Samples.merge(acquireSamples);
            Samples handoff = Samples.merge(handoffSamples);
            Samples changed = Samples.merge(changedHandoffSamples);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("scenario", name);
            r.put("threads", threads);
            r.put("ops", ops.get());
            r.put("seconds", measuredNanos / 1e9);
            r.put("opsPerSecond", ops.get() / (measuredNanos / 1e9));
            r.put("acquireP50Us", acquire.quantileMicros(0.50));
            r.put("acquireP99Us", acquire.quantileMicros(0.99));
            Samples release = Samples.merge(releaseSamples);
            if (release.size() > 0) {
                r.put("releaseP50Us", release.quantileMicros(0.50));
                r.put("releaseP99Us", release.quantileMicros(0.99));
            }
            // What the backend served while timed, per acquisition counted: under contention the
            // failed tries of woken waiters show here. Redis: commandstats, scripts' insides included.
            if (ops.get() > 0) {
                Map<String, Double> perOp = new LinkedHashMap<>();
                requests.forEach((k, v) -> perOp.put(k, v / (double) ops.get()));
                r.put("requestsPerAcquisition", perOp);
            }
            if (handoff.size() > 0) {
                r.put("handoffP50Us", handoff.quantileMicros(0.50));
                r.put("handoffP99Us", handoff.quantileMicros(0.99));
                r.put("handoffToOtherP50Us", changed.quantileMicros(0.50));
                r.put("handoffToOtherP99Us", changed.quantileMicros(0.99));
            }
            return r;
        }
    }
}
