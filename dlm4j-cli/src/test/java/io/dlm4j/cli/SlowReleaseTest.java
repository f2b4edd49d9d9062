package io.dlm4j.cli;

import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The release at the end of a run talks to the backend and may take up to the operation timeout.
 * Meanwhile a lost lease must still be reported at once (its callback runs on the Dlm's thread),
 * and the shutdown hook of a SIGTERM must wait for the release itself, not for a monitor that the
 * release holds over the network call. Here the release blocks until the test opens its gate.
 */
class SlowReleaseTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, UTF_8);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final FakeLease lease = new FakeLease("k", "me", 7);
    private final FakeDlm dlm = FakeDlm.free(lease);

    @AfterEach
    void letEverythingGo() {
        lease.release.open();
        dlm.close.open();
        threads.shutdownNow();
    }

    @Test
    void aLeaseLostDuringASlowReleaseIsReportedWithoutWaitingForIt() throws Exception {
        lease.release.shut();
        Running running = start(settings("sh", "-c", "exit 3"));
        lease.release.awaitReached(); // the program has ended and the run is releasing

        Future<?> lost = threads.submit(lease::lose);
        await().atMost(PROMPTLY).until(lost::isDone);
        assertThat(err()).isEqualTo("dlm4j: lost the lock 'k' (token 7); the program goes on "
                + "(--kill-on-loss would stop it)\n");
        assertThat(running.exit.isDone()).as("still releasing").isFalse();

        lease.release.open();
        assertThat(running.exit.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(lease.closes).hasValue(1);
        assertThat(dlm.closes).hasValue(1);
    }

    @Test
    void aSignalDuringASlowReleaseWaitsForTheReleaseNotForAMonitor() throws Exception {
        lease.release.shut();
        Running running = start(settings("true"));
        lease.release.awaitReached();

        Thread hook = new Thread(running.run::onShutdown, "test-shutdown-hook");
        hook.start();
        // WAITING is a wait for the release to end; BLOCKED would be a wait to enter a monitor
        await().atMost(PROMPTLY).until(() -> hook.getState() == Thread.State.WAITING);
        Future<?> lost = threads.submit(lease::lose);
        await().atMost(PROMPTLY).until(lost::isDone);
        assertThat(hook.isAlive()).as("the hook waits for the release, or the JVM would exit in its middle").isTrue();
        assertThat(running.exit.isDone()).as("still releasing").isFalse();

        lease.release.open();
        hook.join(PROMPTLY.toMillis());
        assertThat(hook.isAlive()).as("the hook ends with the release").isFalse();
        assertThat(running.exit.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isZero();
        assertThat(lease.release.interrupted()).as("the hook left the release alone").isFalse();
        assertThat(lease.closes).hasValue(1);
        assertThat(dlm.closes).hasValue(1);
    }

    private record Running(SupervisedRun run, Future<Integer> exit) {
    }

    /** Runs on a thread of its own, which the run takes for its main thread, as dlm4j's main thread. */
    private Running start(RunSettings settings) {
        CompletableFuture<SupervisedRun> made = new CompletableFuture<>();
        Future<Integer> exit = threads.submit(() -> {
            SupervisedRun run = new SupervisedRun(dlm, settings, err);
            made.complete(run);
            return run.run();
        });
        return new Running(made.join(), exit);
    }

    private static RunSettings settings(String... command) {
        MutexOptions lock = MutexOptions.builder("k").owner("me").ttl(Duration.ofSeconds(30)).autoRefresh(true).build();
        return new RunSettings(lock, false, null, true, false, Duration.ofSeconds(10), List.of(command));
    }

    private String err() {
        return errBytes.toString(UTF_8);
    }
}
