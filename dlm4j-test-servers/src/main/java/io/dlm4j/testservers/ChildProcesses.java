package io.dlm4j.testservers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * What the test-server launchers ({@link RedisServer}, {@link EtcdCluster}, {@link PostgresServer},
 * {@link MariaDbServer}) share about child processes: finding a binary, free ports for it
 * ({@link FreePorts}), sending signals and waiting until they took effect, also to a whole process
 * tree (PostgreSQL forks a process per connection), running a short command, reading logs,
 * cleaning up folders, and killing at JVM exit what was not closed ({@link Reaper}).
 */
final class ChildProcesses {

    private static final List<String> FALLBACK_DIRS = List.of("/usr/bin", "/usr/local/bin", "/usr/sbin");
    private static final Duration SIGNAL_TIMEOUT = Duration.ofSeconds(10);

    private ChildProcesses() {
    }

    /** The executable {@code name} on PATH or in the usual system folders. */
    static Path findBinary(String name, String notFoundMessage) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(Arrays.asList(path.split(File.pathSeparator)));
        }
        dirs.addAll(FALLBACK_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Paths.get(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(notFoundMessage);
    }

    /** Sends {@code SIG<signal>} with kill(1). */
    static void signal(Process p, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .redirectErrorStream(true)
                    .start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(SIGNAL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || kill.exitValue() != 0) {
                kill.destroyForcibly();
                throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + signal, e);
        }
    }

    /**
     * Waits until the process is stopped (state {@code T} in {@code /proc/<pid>/stat}) or no longer
     * is. Signals are delivered asynchronously; this makes pause() and resume() take effect before
     * they return. Without /proc, returns at once.
     */
    static void awaitState(Process p, boolean stopped, String name) {
        Path stat = Paths.get("/proc", Long.toString(p.pid()), "stat");
        long deadline = System.nanoTime() + SIGNAL_TIMEOUT.toNanos();
        while (p.isAlive()) {
            String text;
            try {
                text = Files.readString(stat);
            } catch (IOException e) {
                return;
            }
            int end = text.lastIndexOf(')'); // the state follows "pid (comm) "
            char state = end >= 0 && end + 2 < text.length() ? text.charAt(end + 2) : '?';
            boolean isStopped = state == 'T' || state == 't';
            if (isStopped == stopped) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException(name + " (pid " + p.pid() + ") did not "
                        + (stopped ? "stop" : "continue") + "; state " + state);
            }
            if (waitFor(p, Duration.ofMillis(5), name)) {
                return;
            }
        }
    }

    /**
     * The process and its descendants, parent first; a snapshot. PostgreSQL's postmaster forks its
     * background workers and one backend per connection: freezing or killing only the postmaster
     * would leave them answering, or holding the shared memory a restart needs.
     */
    static List<ProcessHandle> tree(Process p) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(p.toHandle());
        p.descendants().forEach(all::add);
        return all;
    }

    /**
     * Sends {@code SIG<signal>} to the process and then to its descendants (listed after the
     * parent got the signal, so a stopped parent forks no child that the list misses), and waits
     * until each has {@linkplain #awaitState stopped or continued}. A descendant that ended
     * meanwhile is skipped; the parent must be alive.
     */
    static void signalTree(Process p, String signal, boolean stopped, String name) {
        signal(p, signal);
        List<ProcessHandle> children = p.descendants().toList();
        if (!children.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
            children.forEach(c -> cmd.add(Long.toString(c.pid())));
            run(cmd, SIGNAL_TIMEOUT); // a child that just exited makes kill fail: not an error here
        }
        awaitState(p, stopped, name);
        for (ProcessHandle child : children) {
            awaitState(child.pid(), stopped, name);
        }
    }

    /**
     * SIGKILL to the process and all its descendants; waits until all are gone (or zombies, whose
     * memory is freed). Returns false if some did not end within 10 s.
     */
    static boolean killTree(Process p, String name) {
        List<ProcessHandle> all = tree(p);
        all.forEach(ProcessHandle::destroyForcibly); // SIGKILL also ends a stopped process
        boolean ended = waitFor(p, SIGNAL_TIMEOUT, name);
        long deadline = System.nanoTime() + SIGNAL_TIMEOUT.toNanos();
        for (ProcessHandle h : all.subList(1, all.size())) {
            while (isLive(h.pid())) {
                if (System.nanoTime() - deadline >= 0) {
                    return false;
                }
                sleep(Duration.ofMillis(5), name);
            }
        }
        return ended;
    }

    /** Whether /proc knows the pid as a process that is not a zombie. */
    static boolean isLive(long pid) {
        char state = state(pid);
        return state != 0 && state != 'Z' && state != 'X';
    }

    /** The state letter of {@code /proc/<pid>/stat}, or 0 when there is no such process. */
    private static char state(long pid) {
        String text;
        try {
            text = Files.readString(Paths.get("/proc", Long.toString(pid), "stat"));
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
        int end = text.lastIndexOf(')'); // the state follows "pid (comm) "
        return end >= 0 && end + 2 < text.length() ? text.charAt(end + 2) : '?';
    }

    /** {@link #awaitState(Process, boolean, String)} for a process that is not our child. */
    static void awaitState(long pid, boolean stopped, String name) {
        long deadline = System.nanoTime() + SIGNAL_TIMEOUT.toNanos();
        while (true) {
            char state = state(pid);
            if (state == 0 || state == 'Z' || state == 'X' || (state == 'T' || state == 't') == stopped) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException(name + " (pid " + pid + ") did not "
                        + (stopped ? "stop" : "continue") + "; state " + state);
            }
            sleep(Duration.ofMillis(5), name);
        }
    }

    /** The outcome of {@link #run}: exit code, stdout, stderr. */
    record Result(int exitCode, String out, String err) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * Runs a short command (a client such as psql, a chown, a copy) to its end and collects its
     * output; stdin is /dev/null.
     *
     * @throws IllegalStateException if it does not end within {@code timeout}
     */
    static Result run(List<String> cmd, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("dlm4j-cmd-", ".out");
            err = Files.createTempFile("dlm4j-cmd-", ".err");
            Process p = new ProcessBuilder(cmd)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!waitFor(p, timeout, cmd.get(0))) {
                p.destroyForcibly();
                waitFor(p, SIGNAL_TIMEOUT, cmd.get(0));
                throw new IllegalStateException(String.join(" ", cmd) + " did not end within "
                        + timeout.toMillis() + " ms");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0), e);
        } finally {
            for (Path file : new Path[] {out, err}) {
                if (file != null) {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        // best effort
                    }
                }
            }
        }
    }

    static void sleep(Duration d, String name) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
    }

    /** Waits for the process to exit; true if it has. */
    static boolean waitFor(Process p, Duration timeout, String name) {
        try {
            return p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
    }

    /** The last {@code lines} lines of a log, for failure messages. */
    static String tail(Path file, int lines) {
        List<String> all;
        try {
            all = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            return "(" + e + ")\n";
        }
        StringBuilder sb = new StringBuilder();
        for (String line : all.subList(Math.max(0, all.size() - lines), all.size())) {
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** What a log gained since {@code offset}. */
    static String readFrom(Path file, long offset) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            int from = (int) Math.min(offset, bytes.length);
            return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // best effort: a leftover temporary folder does no harm
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort, as above
        }
    }

    /**
     * Free loopback ports for a server to bind. A port is free when probed, but another process may
     * take it before the server binds it; a launcher that sees its server fail to bind starts it
     * again on new ports, up to {@link #ATTEMPTS} times.
     */
    static final class FreePorts {

        /** Where the ports are probed, and so where the launched servers listen. */
        static final String HOST = "127.0.0.1";
        /** How many sets of ports a launcher tries before it gives up. */
        static final int ATTEMPTS = 5;

        private FreePorts() {
        }

        /** {@code count} distinct free ports: every probe stays bound until all ports are chosen. */
        static int[] pick(int count) {
            List<ServerSocket> sockets = new ArrayList<>();
            try {
                int[] ports = new int[count];
                for (int i = 0; i < count; i++) {
                    ServerSocket socket = new ServerSocket();
                    sockets.add(socket);
                    socket.setReuseAddress(true);
                    socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                    ports[i] = socket.getLocalPort();
                }
                return ports;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find free ports", e);
            } finally {
                for (ServerSocket socket : sockets) {
                    try {
                        socket.close();
                    } catch (IOException e) {
                        // nothing to do
                    }
                }
            }
        }
    }

    /**
     * One JVM shutdown hook for all launchers: at exit it kills the child processes that were not
     * closed and deletes their folders, so a test run leaves no orphans (except when the JVM itself
     * is killed with SIGKILL). Registered with the first {@link #watch}.
     */
    static final class Reaper {

        private record Child(Supplier<Process> process, Path folder) {
        }

        /** By owner, compared by identity: a launcher is watched from its start until it is closed. */
        private static final Map<Object, Child> LIVE = Collections.synchronizedMap(new IdentityHashMap<>());

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(Reaper::killAll, "dlm4j-test-server-reaper"));
        }

        private Reaper() {
        }

        /**
         * Until {@link #release(Object)}, the hook kills {@code owner}'s process at exit (read then,
         * since a restart replaces it; null when none runs) and deletes {@code folder}.
         */
        static void watch(Object owner, Supplier<Process> process, Path folder) {
            LIVE.put(owner, new Child(process, folder));
        }

        /** {@code owner} was closed: its process and folder are no longer the hook's to clean. */
        static void release(Object owner) {
            LIVE.remove(owner);
        }

        private static void killAll() {
            List<Child> left;
            synchronized (LIVE) {
                left = new ArrayList<>(LIVE.values());
            }
            for (Child child : left) {
                Process p = child.process().get();
                if (p != null) {
                    // SIGKILL also ends a stopped (paused) process; descendants first: a
                    // PostgreSQL backend frozen with its postmaster would outlive it
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            }
            for (Child child : left) {
                Process p = child.process().get();
                if (p != null) {
                    try {
                        p.waitFor(2, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                deleteRecursively(child.folder());
            }
        }
    }
}
