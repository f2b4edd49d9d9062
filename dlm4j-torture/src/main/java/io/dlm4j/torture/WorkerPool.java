package io.dlm4j.torture;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** The worker JVMs of one scenario: starts them, replaces killed ones, and ends every one of them. */
final class WorkerPool implements AutoCloseable {

    /** One worker process. */
    record WorkerProcess(String name, Process process, Path history, Path clockFile, Path log) {
    }

    private final Path directory;
    private final String classPath;
    private final String uri;
    private final int resourcePort;
    private final List<String> keys;
    private final Settings settings;
    private volatile long deadlineNanos;
    private final Random random;
    private final List<WorkerProcess> workers = new CopyOnWriteArrayList<>();
    private final Set<String> killed = ConcurrentHashMap.newKeySet();
    private final Set<String> forceKilledAtEnd = ConcurrentHashMap.newKeySet();
    private final Thread reaper = new Thread(this::killAll, "torture-worker-reaper");
    private int started;

    WorkerPool(Path directory, String classPath, String uri, int resourcePort, List<String> keys, Settings settings,
               long seed) {
        this.directory = directory;
        this.classPath = classPath;
        this.uri = uri;
        this.resourcePort = resourcePort;
        this.keys = keys;
        this.settings = settings;
        this.random = new Random(seed);
        this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.seconds());
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /**
     * Starts the first workers and waits until each is warm (connected, its classes loaded), so that
     * the nemesis starts when they do. A worker that dies or does not get warm in 60 s is an error.
     */
    void startAll() throws InterruptedException {
        List<WorkerProcess> first = new ArrayList<>();
        for (int i = 0; i < settings.workers(); i++) {
            first.add(start());
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (WorkerProcess w : first) {
            while (!java.nio.file.Files.exists(Worker.readyFile(w.history()))) {
                if (!w.process().isAlive() || System.nanoTime() - end > 0) {
                    throw new IllegalStateException("worker " + w.name() + " did not get ready: " + lastLines(w.log(), 5));
                }
                Thread.sleep(20); // polls a file the worker creates
            }
        }
        deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.seconds());
    }

    /** Starts one more worker with a new name (so a new owner), for what is left of the time limit. */
    synchronized WorkerProcess start() {
        String name = "w" + (++started);
        long secondsLeft = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadlineNanos - System.nanoTime()));
        Path history = directory.resolve(name + ".history.jsonl");
        Path clock = directory.resolve(name + ".clock");
        Path log = directory.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx192m", "-Xshare:auto",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classPath, Worker.class.getName(),
                "name=" + name, "uri=" + uri, "resource=" + resourcePort, "keys=" + String.join(",", keys),
                "ops=" + settings.opsPerWorker(), "seconds=" + secondsLeft, "ttlMs=" + settings.ttlMillis(),
                "maxWaitMs=" + settings.maxWaitMillis(), "operationTimeoutMs=" + settings.operationTimeoutMillis(),
                "workMaxMs=" + settings.workMaxMillis(), "history=" + history, "clock=" + clock,
                "seed=" + random.nextLong()));
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            WorkerProcess w = new WorkerProcess(name, p, history, clock, log);
            workers.add(w);
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start worker " + name, e);
        }
    }

    List<WorkerProcess> all() {
        return List.copyOf(workers);
    }

    List<WorkerProcess> alive() {
        return workers.stream().filter(w -> w.process().isAlive() && !killed.contains(w.name())).toList();
    }

    WorkerProcess byName(String name) {
        return workers.stream().filter(w -> w.name().equals(name)).findFirst().orElse(null);
    }

    /** kill -9 a worker and wait for it to end; its open acquisition is then not "stuck". */
    void kill(WorkerProcess w) {
        killed.add(w.name());
        w.process().destroyForcibly();
        try {
            w.process().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the workers' time limit has passed: no new fault should start then. */
    boolean pastDeadline() {
        return System.nanoTime() - deadlineNanos > 0;
    }

    Set<String> killed() {
        return Set.copyOf(killed);
    }

    /** Workers that had not stopped by themselves when the scenario ended and were killed then. */
    Set<String> forceKilledAtEnd() {
        return Set.copyOf(forceKilledAtEnd);
    }

    /**
     * Waits until every worker has stopped by itself, up to the time limit plus {@code graceMillis};
     * true if they all did.
     */
    boolean awaitAllStopped(long graceMillis) throws InterruptedException {
        long end = deadlineNanos + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        while (true) {
            boolean allDone = true;
            for (WorkerProcess w : workers) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return workers.stream().noneMatch(x -> x.process().isAlive());
                }
                if (!w.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                    allDone = false;
                }
            }
            // a replacement may have been started while we waited for the others
            if (allDone && workers.stream().noneMatch(x -> x.process().isAlive())) {
                return true;
            }
        }
    }

    /** Exit codes other than 0 of workers that were not killed, with the last lines of their logs. */
    List<String> failures() {
        List<String> out = new ArrayList<>();
        for (WorkerProcess w : workers) {
            if (!w.process().isAlive() && !killed.contains(w.name()) && !forceKilledAtEnd.contains(w.name())
                    && w.process().exitValue() != 0) {
                out.add(w.name() + " exited with " + w.process().exitValue() + ": " + lastLines(w.log(), 3));
            }
        }
        return out;
    }

    private static String lastLines(Path log, int n) {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void killAll() {
        for (WorkerProcess w : workers) {
            if (w.process().isAlive()) {
                w.process().destroyForcibly(); // SIGKILL ends a stopped process too
            }
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the reaper runs anyway
        }
        for (WorkerProcess w : workers) {
            if (w.process().isAlive()) {
                // one still warming up has no operation to be stuck in
                if (!killed.contains(w.name()) && java.nio.file.Files.exists(Worker.readyFile(w.history()))) {
                    forceKilledAtEnd.add(w.name());
                }
                w.process().destroyForcibly();
            }
        }
        for (WorkerProcess w : workers) {
            try {
                w.process().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

}
