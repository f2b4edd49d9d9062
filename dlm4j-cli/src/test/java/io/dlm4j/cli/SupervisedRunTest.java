package io.dlm4j.cli;

import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** One run on a fake Dlm with real programs (sh): what it prints, what it returns, what it releases. */
class SupervisedRunTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, UTF_8);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final FakeLease lease = new FakeLease("k", "me", 7);

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void theProgramGetsTheLeaseInItsEnvironmentAndItsExitCodeIsPassedOn() throws Exception {
        FakeDlm dlm = FakeDlm.free(lease);
        Path env = dir.resolve("env");
        int exit = new SupervisedRun(dlm, settings(false, false,
                "sh", "-c", "echo \"$DLM4J_KEY $DLM4J_OWNER $DLM4J_FENCING_TOKEN\" > \"$0\"; exit 3", env.toString()),
                err).run();
        assertThat(exit).isEqualTo(3);
        assertThat(Files.readString(env)).isEqualTo("k me 7\n");
        assertThat(err()).isEmpty();
        assertThat(lease.closes).hasValue(1);
        assertThat(dlm.closes).hasValue(1);
    }

    @Test
    void noWaitOnAHeldLockIs75WithTheHolder() {
        FakeDlm dlm = FakeDlm.heldByAnother();
        RunSettings settings = new RunSettings(lock(), true, null, false, false, Duration.ofSeconds(10), List.of("true"));
        assertThatThrownBy(() -> new SupervisedRun(dlm, settings, err).run())
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(75))
                .hasMessageMatching("'k' not acquired \\(--no-wait\\): held by someone, token 5, expires in \\d+ s");
        assertThat(dlm.closes).hasValue(1);
    }

    @Test
    void aWaitThatEndsIs75WithTheHolder() {
        FakeDlm dlm = FakeDlm.heldByAnother();
        RunSettings settings = new RunSettings(lock(), false, Duration.ofMillis(300), true, false,
                Duration.ofSeconds(10), List.of("true"));
        assertThatThrownBy(() -> new SupervisedRun(dlm, settings, err).run())
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(75))
                .hasMessageMatching("'k' not acquired within 300ms: held by someone, token 5, expires in \\d+ s");
        assertThat(err()).as("--quiet").isEmpty();
        assertThat(dlm.closes).hasValue(1);
    }

    @Test
    void aSignalWhileWaitingForTheLockEndsTheWaitWith75() throws Exception {
        FakeDlm dlm = FakeDlm.heldByAnother();
        Running running = start(dlm, new RunSettings(lock(), false, null, true, false, Duration.ofSeconds(10),
                List.of("true")));
        await().atMost(PROMPTLY).until(() -> running.thread().getState() == Thread.State.WAITING); // in lock()
        running.run().onShutdown();
        assertThat(running.exit().get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(75);
        assertThat(dlm.closes).hasValue(1);
        assertThat(err()).isEmpty();
    }

    @Test
    void aSignalWhileTheProgramRunsStopsItAndThenReleases() throws Exception {
        FakeDlm dlm = FakeDlm.free(lease);
        Path started = dir.resolve("started");
        Running running = start(dlm, settings(false, false,
                "sh", "-c", ": > \"$0\"; exec sleep 60", started.toString()));
        await().atMost(PROMPTLY).until(() -> Files.exists(started));
        running.run().onShutdown(); // returns once the program is stopped and the lock released
        assertThat(lease.closes).hasValue(1);
        assertThat(dlm.closes).hasValue(1);
        assertThat(running.exit().get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(err()).isEmpty();
    }

    @Test
    void aLostLockStopsTheProgramWithKillOnLoss() throws Exception {
        FakeDlm dlm = FakeDlm.free(lease);
        Path started = dir.resolve("started");
        Running running = start(dlm, settings(false, true,
                "sh", "-c", ": > \"$0\"; exec sleep 60", started.toString()));
        await().atMost(PROMPTLY).until(() -> Files.exists(started) && lease.hasLossCallback());
        lease.lose();
        assertThat(running.exit().get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(err()).isEqualTo("dlm4j: lost the lock 'k' (token 7); stopping the program (--kill-on-loss)\n"
                + "dlm4j: the program was stopped because the lock 'k' was lost; its exit code: 143\n");
        assertThat(lease.closes).hasValue(1);
    }

    @Test
    void aLostLockWithoutKillOnLossIsOnlySaid() throws Exception {
        FakeDlm dlm = FakeDlm.free(lease);
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        Future<Integer> exit = threads.submit(() -> new SupervisedRun(dlm, settings(false, false,
                "sh", "-c", ": > \"$0\"; while [ ! -e \"$1\" ]; do sleep 0.05; done; exit 4",
                started.toString(), go.toString()), err).run());
        await().atMost(PROMPTLY).until(() -> Files.exists(started) && lease.hasLossCallback());
        lease.lose();
        assertThat(err()).isEqualTo("dlm4j: lost the lock 'k' (token 7); the program goes on "
                + "(--kill-on-loss would stop it)\n");
        assertThat(exit.isDone()).isFalse();
        Files.createFile(go);
        assertThat(exit.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(4);
        assertThat(err()).as("no second line").doesNotContain("was stopped");
    }

    @Test
    void aProgramThatCannotStartIs127AndTheLockIsReleased() {
        FakeDlm dlm = FakeDlm.free(lease);
        assertThatThrownBy(() -> new SupervisedRun(dlm, settings(false, false, dir.resolve("gone").toString()), err)
                .run())
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(127))
                .hasMessageStartingWith("cannot run '" + dir.resolve("gone") + "': ");
        assertThat(lease.closes).hasValue(1);
        assertThat(dlm.closes).hasValue(1);
    }

    private record Running(SupervisedRun run, Thread thread, Future<Integer> exit) {
    }

    /** On a thread of its own, which the run takes for its main thread. */
    private Running start(FakeDlm dlm, RunSettings settings) {
        CompletableFuture<Running> made = new CompletableFuture<>();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            SupervisedRun run = new SupervisedRun(dlm, settings, err);
            made.complete(new Running(run, Thread.currentThread(), exit));
            try {
                exit.complete(run.run());
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            }
        }, "test-main");
        thread.setDaemon(true);
        thread.start();
        return made.join();
    }

    private static RunSettings settings(boolean quiet, boolean killOnLoss, String... command) {
        return new RunSettings(lock(), false, null, quiet, killOnLoss, Duration.ofSeconds(10), List.of(command));
    }

    private static MutexOptions lock() {
        return MutexOptions.builder("k").owner("me").ttl(Duration.ofSeconds(30)).autoRefresh(true).build();
    }

    private String err() {
        return errBytes.toString(UTF_8);
    }
}
