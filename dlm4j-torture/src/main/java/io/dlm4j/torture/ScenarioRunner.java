package io.dlm4j.torture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs one backend under one fault: a fresh guarded resource, fresh keys, the workers, the
 * nemesis; then the checker. Bounded: the workers stop by themselves at their op count or time
 * limit; whatever still runs a grace period later is killed (and counted as stuck).
 */
final class ScenarioRunner {

    private static final long GRACE_MILLIS = 15_000;
    /** How far past its bound a call may end before {@link #slowCalls} names it. */
    static final long SLOW_SLACK_MILLIS = 500;

    private final String classPath;
    private final Settings settings;
    private final Path outputDirectory;

    ScenarioRunner(String classPath, Settings settings, Path outputDirectory) {
        this.classPath = classPath;
        this.settings = settings;
        this.outputDirectory = outputDirectory;
    }

    ScenarioResult run(SystemUnderTest system, Fault fault, long seed) throws InterruptedException, IOException {
        long started = System.nanoTime();
        String scenario = system.name() + "-" + fault.label();
        Path dir = outputDirectory.resolve(scenario);
        deleteRecursively(dir); // a previous run's histories and ready files must not mix with this run's
        Files.createDirectories(dir);
        List<String> keys = new ArrayList<>();
        for (int i = 1; i <= settings.keys(); i++) {
            keys.add(scenario + "-k" + i); // fresh keys: a scenario starts with no holds and no counters
        }
        List<String> notes = new ArrayList<>();
        Findings findings;
        List<String> nemesisEvents;
        int injected;
        long[] holds;
        long[] gaveUp = new long[2];
        long lateBytes;
        WorkerPool pool;
        List<HistoryEvent> history = new ArrayList<>();
        try (GuardedResource resource = GuardedResource.start()) {
            pool = new WorkerPool(dir, classPath, system.uri(), resource.port(), keys, settings, seed);
            Nemesis nemesis = new Nemesis(fault, system, pool, resource, settings, seed ^ 0x5DEECE66DL);
            try (pool) {
                pool.startAll();
                nemesis.start();
                try {
                    pool.awaitAllStopped(GRACE_MILLIS);
                } finally {
                    nemesis.stop();
                }
            }
            injected = nemesis.injected();
            lateBytes = nemesis.lateBytes();
            holds = nemesis.holdsAcrossRestarts();
            nemesisEvents = nemesis.events();
            resource.writeLog(dir.resolve(Check.RESOURCE_LOG));
            Files.write(dir.resolve(Check.KILLED), pool.killed());
            for (WorkerPool.WorkerProcess w : pool.all()) {
                if (Files.exists(w.history())) {
                    history.addAll(HistoryEvent.readAll(w.history()));
                }
            }
            findings = new Checker(settings.stuckBound().toNanos()).check(history, resource.log(), pool.killed());
            for (HistoryEvent e : history) {
                if (e.type().equals(HistoryEvent.INFO)) {
                    gaveUp[e.f().equals(HistoryEvent.ACQUIRE) ? 0 : 1]++;
                }
            }
        }
        List<String> failures = pool.failures();
        notes.addAll(failures);
        for (String name : pool.forceKilledAtEnd()) {
            notes.add(name + " had not stopped by itself " + GRACE_MILLIS / 1000 + " s after the time limit: killed");
        }
        notes.addAll(slowCalls(history, settings));
        notes.addAll(findings.examples());
        if (gaveUp[0] + gaveUp[1] > 0) {
            notes.add("calls that gave up (`info`: a backend failure or the operation timeout): " + gaveUp[0]
                    + " acquisitions, " + gaveUp[1] + " releases");
        }
        notes.addAll(nemesisEvents);
        return new ScenarioResult(system.name(), fault, findings, injected, pool.forceKilledAtEnd().size(),
                holds[0], holds[1], failures.size(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), lateBytes, gaveUp[0] + gaveUp[1], notes);
    }

    /**
     * The slowest acquisition and the slowest release, where they took longer than a call may: an
     * acquisition {@code lock(maxWait)} plus one operation timeout, a release one operation timeout.
     * A call past its bound is a hang of the backend's client (the stuck column counts only far
     * longer ones). Overruns up to {@value #SLOW_SLACK_MILLIS} ms are left out: a timeout that fires
     * on time still takes some milliseconds to end the call on a loaded machine. Paused workers' calls are not counted, since pause-holder stops them inside their
     * section, between calls.
     */
    static List<String> slowCalls(List<HistoryEvent> history, Settings settings) {
        java.util.Map<String, List<HistoryEvent>> byProcess = new java.util.HashMap<>();
        for (HistoryEvent e : history) {
            byProcess.computeIfAbsent(e.process(), p -> new ArrayList<>()).add(e);
        }
        long[] slowest = new long[2];
        String[] where = new String[2];
        for (List<HistoryEvent> events : byProcess.values()) {
            events.sort(Comparator.comparingLong(HistoryEvent::time));
            HistoryEvent open = null;
            for (HistoryEvent e : events) {
                if (!e.isCompletion()) {
                    open = e;
                    continue;
                }
                if (open != null && open.f().equals(e.f())) {
                    int i = e.f().equals(HistoryEvent.ACQUIRE) ? 0 : 1;
                    long millis = TimeUnit.NANOSECONDS.toMillis(e.time() - open.time());
                    if (millis > slowest[i]) {
                        slowest[i] = millis;
                        where[i] = e.process() + " on " + e.key() + ", ended " + e.type();
                    }
                }
                open = null;
            }
        }
        List<String> out = new ArrayList<>();
        long acquireBound = settings.maxWaitMillis() + settings.operationTimeoutMillis();
        if (slowest[0] > acquireBound + SLOW_SLACK_MILLIS) {
            out.add("slowest acquisition " + slowest[0] + " ms (" + where[0] + "), above lock(" + settings.maxWaitMillis()
                    + " ms) + the operation timeout (" + acquireBound + " ms) by more than " + SLOW_SLACK_MILLIS + " ms");
        }
        if (slowest[1] > settings.operationTimeoutMillis() + SLOW_SLACK_MILLIS) {
            out.add("slowest release " + slowest[1] + " ms (" + where[1] + "), above the operation timeout ("
                    + settings.operationTimeoutMillis() + " ms) by more than " + SLOW_SLACK_MILLIS + " ms");
        }
        return out;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
