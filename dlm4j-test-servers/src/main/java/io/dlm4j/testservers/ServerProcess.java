package io.dlm4j.testservers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The life cycle of one database server process that {@link PostgresServer} and
 * {@link MariaDbServer} share: start and wait until it is ready, stop, kill, pause, resume,
 * restart on the same port and folder. The two servers differ only in their command line, their
 * log's "ready" line and the signal of a graceful stop; the launchers hold what else they know
 * (users, databases, their clients). Not thread-safe: the launchers call it under their lock.
 *
 * <p>Ready means: the process is alive, its log gained the ready line since this start (so a
 * server another process runs on the port is not mistaken for ours), and the port accepts a TCP
 * connection. A process that exits with "Address already in use" in its log lost the port to
 * another process; {@link #launch} then reports false and the launcher picks another port.
 *
 * <p>Pause, resume and kill act on the whole process tree: PostgreSQL forks a backend per
 * connection, and a frozen postmaster alone would leave them answering queries.
 */
final class ServerProcess {

    private static final String HOST = ChildProcesses.FreePorts.HOST;
    /** Generous: two cores may be busy with another build while several servers start. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #restart()} keeps trying when the old port cannot be bound yet. */
    private static final Duration REBIND_TIMEOUT = Duration.ofSeconds(5);
    private static final String BIND_FAILURE = "address already in use";
    private static final int TAIL_LINES = 30;

    private final String name;
    private final int port;
    private final Supplier<List<String>> commandLine;
    private final Path workingDirectory;
    private final Path log;
    private final String readyLine;
    private final String stopSignal;

    /** Read without the lock by the shutdown hook ({@link ChildProcesses.Reaper}). */
    private volatile Process process;
    private boolean paused;

    /**
     * @param commandLine asked again at each start
     * @param log         where the process's stdout and stderr are appended; the server's own log
     * @param stopSignal  the signal of a graceful stop ({@code "TERM"}, or {@code "INT"} for
     *                    PostgreSQL's fast shutdown: its SIGTERM waits for every client to leave)
     */
    ServerProcess(String name, int port, Supplier<List<String>> commandLine, Path workingDirectory, Path log,
                  String readyLine, String stopSignal) {
        this.name = name;
        this.port = port;
        this.commandLine = commandLine;
        this.workingDirectory = workingDirectory;
        this.log = log;
        this.readyLine = readyLine;
        this.stopSignal = stopSignal;
    }

    /** The current process, or null before the first start; read without the lock. */
    Process process() {
        return process;
    }

    long pid() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException(name + " was never started");
        }
        return p.pid();
    }

    boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    boolean isPaused() {
        return paused;
    }

    /**
     * Starts the process and waits until it is ready. Returns false if it could not bind the port
     * and {@code rebindFor} has passed (tries again until then); throws on any other failure.
     */
    boolean launch(Duration rebindFor) {
        long rebindDeadline = System.nanoTime() + rebindFor.toNanos();
        while (true) {
            long offset = ChildProcesses.size(log);
            Process p;
            try {
                p = new ProcessBuilder(commandLine.get())
                        .directory(workingDirectory.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + name, e);
            }
            process = p;
            paused = false;
            if (awaitReady(p, offset)) {
                return true;
            }
            if (!ChildProcesses.readFrom(log, offset).toLowerCase(Locale.ROOT).contains(BIND_FAILURE)) {
                throw new IllegalStateException(name + " exited with code " + p.exitValue() + " on port " + port
                        + "\n" + logTail());
            }
            if (System.nanoTime() - rebindDeadline >= 0) {
                return false;
            }
            ChildProcesses.sleep(Duration.ofMillis(100), name);
        }
    }

    /** False if the process exited; throws if it is neither ready nor exits in time. */
    private boolean awaitReady(Process p, long offset) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!p.isAlive()) {
                return false;
            }
            if (ChildProcesses.readFrom(log, offset).contains(readyLine) && accepts() && p.isAlive()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                ChildProcesses.killTree(p, name);
                throw new IllegalStateException(name + " not ready on port " + port + " within "
                        + START_TIMEOUT.toSeconds() + " s\n" + logTail());
            }
            ChildProcesses.waitFor(p, Duration.ofMillis(10), name);
        }
    }

    private boolean accepts() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Graceful stop (resumed first if paused), SIGKILL of the tree after 10 s. Nothing if not running. */
    void stop() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        resume();
        List<ProcessHandle> children = p.descendants().toList(); // a parent that exited has none
        ChildProcesses.signal(p, stopSignal);
        if (!ChildProcesses.waitFor(p, STOP_TIMEOUT, name)) {
            ChildProcesses.killTree(p, name);
        }
        awaitGone(children);
        paused = false;
    }

    /** SIGKILL to the process and its children; waits until all are gone. Nothing if not running. */
    void kill() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        if (!ChildProcesses.killTree(p, name)) {
            throw new IllegalStateException(name + " (pid " + p.pid() + ") or a child did not exit after SIGKILL");
        }
        paused = false;
    }

    /** SIGSTOP to the process tree; returns once every process is stopped. */
    void pause() {
        if (paused) {
            return;
        }
        Process p = process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException(name + " is not running");
        }
        ChildProcesses.signalTree(p, "STOP", true, name);
        paused = true;
    }

    /** SIGCONT to the process tree, if paused. */
    void resume() {
        if (!paused) {
            return;
        }
        Process p = process;
        if (p.isAlive()) {
            ChildProcesses.signalTree(p, "CONT", false, name);
        }
        paused = false;
    }

    /** Stops a running server, then starts it again on the same port; throws if it does not come back. */
    void restart() {
        stop();
        if (!launch(REBIND_TIMEOUT)) {
            throw new IllegalStateException(name + " could not bind port " + port + " again within "
                    + REBIND_TIMEOUT.toSeconds() + " s\n" + logTail());
        }
    }

    /** Children that outlive a graceful stop (none should) would keep a restart from starting. */
    private void awaitGone(List<ProcessHandle> children) {
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        while (children.stream().anyMatch(h -> ChildProcesses.isLive(h.pid()))) {
            if (System.nanoTime() - deadline >= 0) {
                children.forEach(ProcessHandle::destroyForcibly);
                return;
            }
            ChildProcesses.sleep(Duration.ofMillis(5), name);
        }
    }

    String logTail() {
        return "--- tail of " + log + " ---\n" + ChildProcesses.tail(log, TAIL_LINES);
    }
}
