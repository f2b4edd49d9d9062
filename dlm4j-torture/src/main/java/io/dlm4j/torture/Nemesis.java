package io.dlm4j.torture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Set;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Injects one fault at a time, at random intervals from a seeded {@link Random}, and heals it before
 * the next. Worker faults and server faults land while some worker is inside its critical section
 * (the guarded resource knows who read and has not written yet): that is where they hurt.
 */
final class Nemesis {

    private static final long HOLDER_WAIT_MILLIS = 3000;
    private static final int MAX_PAUSE_ATTEMPTS = 20;
    private static final long CLOCK_JUMP_MILLIS = 5 * 60 * 1000;
    private static final long CLOCK_JUMP_DURATION_MILLIS = 2000;

    private final Fault fault;
    private final SystemUnderTest system;
    private final WorkerPool pool;
    private final GuardedResource resource;
    private final Settings settings;
    private final Random random;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private final List<String> events = new ArrayList<>();
    private int injected;
    private long holdsBeforeRestart = -1;
    private long holdsAfterRestart = -1;
    private long lateBytes;
    private RuntimeException failure;

    Nemesis(Fault fault, SystemUnderTest system, WorkerPool pool, GuardedResource resource, Settings settings, long seed) {
        this.fault = fault;
        this.system = system;
        this.pool = pool;
        this.resource = resource;
        this.settings = settings;
        this.random = new Random(seed);
        this.thread = new Thread(this::loop, "nemesis-" + fault.label());
    }

    void start() {
        if (fault != Fault.NONE) {
            thread.start();
        }
    }

    private void loop() {
        try {
            while (true) {
                long gap = settings.gapMinMillis() + (long) (random.nextDouble() * (settings.gapMaxMillis() - settings.gapMinMillis()));
                if (stop.await(gap, TimeUnit.MILLISECONDS) || pool.pastDeadline()) {
                    return;
                }
                injectOnce();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failure = e;
            record("nemesis failed: " + e);
        }
    }

    private void injectOnce() throws InterruptedException {
        switch (fault) {
            case PAUSE_HOLDER -> {
                // The worker may finish its section between our look and the signal landing (kill(1)
                // takes a few ms to start): then it is let go at once and another one is tried.
                for (int attempt = 0; attempt < MAX_PAUSE_ATTEMPTS; attempt++) {
                    WorkerPool.WorkerProcess w = awaitHolder();
                    if (w == null) {
                        return;
                    }
                    signal(w, "STOP");
                    if (!resource.processesInCriticalSection().contains(w.name())) {
                        signal(w, "CONT");
                        continue;
                    }
                    count("SIGSTOP " + w.name() + " inside its critical section for " + settings.pauseMillis() + " ms"
                            + (attempt > 0 ? " (after " + attempt + " that left their section before the signal)" : ""));
                    Thread.sleep(settings.pauseMillis()); // the fault's duration, not a wait for a state
                    signal(w, "CONT");
                    return;
                }
            }
            case KILL_HOLDER -> {
                WorkerPool.WorkerProcess w = awaitHolder();
                if (w == null) {
                    return;
                }
                pool.kill(w);
                resource.forget(w.name());
                WorkerPool.WorkerProcess replacement = pool.start();
                count("kill -9 " + w.name() + ", replaced by " + replacement.name());
            }
            case CLOCK_JUMP -> {
                List<WorkerPool.WorkerProcess> alive = pool.alive();
                if (alive.isEmpty()) {
                    return;
                }
                WorkerPool.WorkerProcess w = alive.get(random.nextInt(alive.size()));
                long jump = random.nextBoolean() ? CLOCK_JUMP_MILLIS : -CLOCK_JUMP_MILLIS;
                OffsetClock.jump(w.clockFile(), jump);
                count("clock of " + w.name() + " jumped by " + jump / 1000 + " s");
                Thread.sleep(CLOCK_JUMP_DURATION_MILLIS);
                OffsetClock.jump(w.clockFile(), 0);
            }
            case HOLD_TRAFFIC, LATE_REPLIES, LATE_REQUESTS -> injectOnNetwork();
            default -> {
                if (awaitHolder() == null) {
                    return;
                }
                boolean restart = fault == Fault.KILL_RESTART_SERVER || fault == Fault.RESTART_SERVER;
                Set<String> before = restart ? system.liveHolds() : null;
                SystemUnderTest.Heal heal = system.inject(fault, random);
                Thread.sleep(system.faultMillis(fault));
                heal.heal();
                if (before == null) {
                    count(fault.label());
                    return;
                }
                // holds taken after the restart are new ones: only those of before count as kept
                Set<String> kept = system.keptAcrossRestart(before);
                holdsBeforeRestart = Math.max(0, holdsBeforeRestart) + before.size();
                holdsAfterRestart = Math.max(0, holdsAfterRestart) + kept.size();
                count(fault.label() + " (live holds before: " + before.size() + ", of them still there after: "
                        + kept.size() + ")");
            }
        }
    }

    /**
     * Makes the traffic of the backend's proxies late while a worker is inside its critical section
     * (the others are then acquiring or releasing: their calls are the ones that give up), then lets
     * it go. A hold lets everything through at once on heal; a delay's traffic arrives late after it.
     */
    private void injectOnNetwork() throws InterruptedException {
        if (awaitHolder() == null) {
            return;
        }
        NetworkFault network = new NetworkFault(fault, settings.operationTimeoutMillis());
        int injection = injected();
        SystemUnderTest.NetworkTarget target = system.networkTarget(random, injection);
        long[] before = NetworkFault.lateBytes(target.proxies());
        String connections = network.inject(target.proxies(), random, injection);
        try {
            Thread.sleep(network.inPlaceMillis()); // the fault's duration, not a wait for a state
        } finally {
            network.heal(target.proxies());
        }
        long[] after = NetworkFault.lateBytes(target.proxies());
        synchronized (this) {
            lateBytes += after[0] - before[0] + after[1] - before[1];
        }
        count(network.describe(target.where(), connections, after[0] - before[0], after[1] - before[1]));
    }

    /** A live worker inside its critical section, or null if none shows up within 3 s. */
    private WorkerPool.WorkerProcess awaitHolder() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOLDER_WAIT_MILLIS);
        while (System.nanoTime() - end < 0) {
            List<WorkerPool.WorkerProcess> candidates = new ArrayList<>();
            for (String name : resource.processesInCriticalSection()) {
                WorkerPool.WorkerProcess w = pool.byName(name);
                if (w != null && pool.alive().contains(w)) {
                    candidates.add(w);
                }
            }
            if (!candidates.isEmpty()) {
                return candidates.get(random.nextInt(candidates.size()));
            }
            if (stop.await(5, TimeUnit.MILLISECONDS)) { // poll the resource until a holder shows up
                return null;
            }
        }
        return null;
    }

    private static void signal(WorkerPool.WorkerProcess w, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(w.process().pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                // the worker may have ended by itself meanwhile: not a failure of the nemesis
                if (w.process().isAlive()) {
                    throw new IllegalStateException("kill -" + signal + " " + w.process().pid() + " failed: "
                            + new String(kill.getInputStream().readAllBytes()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + signal, e);
        }
    }

    private synchronized void count(String event) {
        injected++;
        events.add(event);
    }

    private synchronized void record(String event) {
        events.add(event);
    }

    synchronized int injected() {
        return injected;
    }

    /** Bytes the network faults made late, both directions, summed over the scenario's faults. */
    synchronized long lateBytes() {
        return lateBytes;
    }

    synchronized List<String> events() {
        return List.copyOf(events);
    }

    /** Live holds on the server just before its kill-restart faults, and how many of them it still had after, summed. */
    synchronized long[] holdsAcrossRestarts() {
        return new long[] {holdsBeforeRestart, holdsAfterRestart};
    }

    /** Stops injecting; a fault in place is healed first. Rethrows what made the nemesis fail. */
    void stop() throws InterruptedException {
        stop.countDown();
        if (thread.isAlive() || thread.getState() != Thread.State.NEW) {
            thread.join();
        }
        if (failure != null) {
            throw failure;
        }
    }
}
