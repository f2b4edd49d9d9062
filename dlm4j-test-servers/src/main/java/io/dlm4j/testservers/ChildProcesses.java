package io.dlm4j.testservers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the test-server launchers ({@link RedisServer}, {@link EtcdCluster}) share about child
 * processes: finding a binary, sending signals and waiting until they took effect, reading logs,
 * and cleaning up folders.
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
}
