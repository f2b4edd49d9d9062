package io.dlm4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starts the real {@code target/dlm4j.jar} as a separate process, as {@code scripts/dlm4j} does, with
 * its stdout and stderr in files of a test folder.
 */
final class Cli {

    static final Path JAR = Path.of(System.getProperty("dlm4j.jar", "target/dlm4j.jar")).toAbsolutePath();
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final AtomicInteger NUMBER = new AtomicInteger();

    private final Path dir;
    private final Map<String, String> env;

    /** Runs in {@code dir}, with this JVM's environment less DLM4J_URI, plus {@code env}. */
    Cli(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    Cli(Path dir) {
        this(dir, Map.of());
    }

    /** Runs one command to its end. */
    Result run(String... args) {
        return start(args).await(DEFAULT_TIMEOUT);
    }

    Started start(String... args) {
        return launch(List.of("-jar", JAR.toString()), args);
    }

    /** {@code java -cp CLASS_PATH io.dlm4j.cli.Dlm4jCommand ARGS}, as README shows for adding a driver. */
    Started startWithClassPath(String classPath, String... args) {
        return launch(List.of("-cp", classPath, BackendOptions.MAIN_CLASS), args);
    }

    private Started launch(List<String> launcher, String... args) {
        assertThat(JAR).as("the shaded jar (built by mvn package)").isRegularFile();
        List<String> command = new ArrayList<>(List.of("java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xshare:auto"));
        command.addAll(launcher);
        command.addAll(List.of(args));
        int n = NUMBER.incrementAndGet();
        Path out = dir.resolve("cli-" + n + ".out");
        Path err = dir.resolve("cli-" + n + ".err");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().remove("DLM4J_URI");
        builder.environment().putAll(env);
        try {
            return new Started(String.join(" ", args), builder.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A running dlm4j. */
    static final class Started {
        final String args;
        final Process process;
        final Path out;
        final Path err;

        Started(String args, Process process, Path out, Path err) {
            this.args = args;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        String out() {
            return read(out);
        }

        String err() {
            return read(err);
        }

        Result await(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("dlm4j " + args + " did not end within " + timeout
                            + "\nstdout: " + out() + "\nstderr: " + err());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            return new Result(args, process.exitValue(), out(), err());
        }

        /** SIGKILL, for clean-up. */
        void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }

        private static String read(Path file) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }
    }

    record Result(String args, int exit, String out, String err) {
        @Override
        public String toString() {
            return "dlm4j " + args + " -> exit " + exit + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }
}
