package io.dlm4j.redis;

import io.dlm4j.spi.Subscription;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Subscribing to release notifications on a server whose connect never completes: the seam is a
 * loopback socket that accepts and never answers ({@link SilentServer}), which a real Redis cannot
 * hold in that state on cue. The client is made with Lettuce's defaults (a 60 s command timeout,
 * which also bounds its connect handshake), so only the operation timeout can end the wait in time.
 */
class RedisReleaseNoticesTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofMillis(500);
    /** The operation timeout plus slack for a loaded 2-core machine, and far below Lettuce's 60 s. */
    private static final long BOUND_SECONDS = 5;

    private SilentServer silent;
    private RedisNode node;
    private ExecutorService threads;

    @BeforeEach
    void start() {
        silent = new SilentServer();
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        if (node != null) {
            node.close();
        }
        silent.close();
    }

    private RedisNode node(Duration operationTimeout) {
        node = new RedisNode(RedisClient.create(silent.uri()), true, operationTimeout, silent.hostAndPort());
        return node;
    }

    @Test
    void aSubscribeWhoseConnectNeverCompletesReturnsWithinTheOperationTimeoutAndDoesNotFail() throws Exception {
        RedisNode hung = node(OPERATION_TIMEOUT);
        Future<Subscription> subscribing = threads.submit(() -> hung.onRelease("released:a", () -> { }));

        Subscription subscription = subscribing.get(BOUND_SECONDS, TimeUnit.SECONDS);
        subscription.close(); // the waiter polls, and leaves as usual
    }

    @Test
    void aSubscriberOfAnotherKeyIsNotQueuedBehindAConnectInProgress() throws Exception {
        RedisNode hung = node(OPERATION_TIMEOUT);
        Future<Subscription> first = threads.submit(() -> hung.onRelease("released:a", () -> { }));
        assertThat(silent.awaitConnection(BOUND_SECONDS)).as("the first subscriber is connecting").isTrue();

        long start = System.nanoTime();
        Future<Subscription> second = threads.submit(() -> hung.onRelease("released:b", () -> { }));
        second.get(BOUND_SECONDS, TimeUnit.SECONDS).close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the second subscriber's wait")
                .isLessThan(Duration.ofSeconds(BOUND_SECONDS));
        first.get(BOUND_SECONDS, TimeUnit.SECONDS).close();
    }

    @Test
    void aSubscriberInterruptedWhileConnectingReturnsWithItsInterruptFlagSet() throws Exception {
        RedisNode hung = node(Duration.ofSeconds(30)); // only the interrupt can end this wait in time
        CompletableFuture<Thread> subscriber = new CompletableFuture<>();
        Future<Boolean> interruptedAfterwards = threads.submit(() -> {
            subscriber.complete(Thread.currentThread());
            Subscription subscription = hung.onRelease("released:a", () -> { });
            boolean flag = Thread.currentThread().isInterrupted();
            subscription.close();
            return flag;
        });
        assertThat(silent.awaitConnection(BOUND_SECONDS)).as("the subscriber is connecting").isTrue();

        subscriber.get(BOUND_SECONDS, TimeUnit.SECONDS).interrupt();
        assertThat(interruptedAfterwards.get(BOUND_SECONDS, TimeUnit.SECONDS))
                .as("the interrupt flag, for the waiter's next step to end its wait").isTrue();
    }

    @Test
    void aSubscriberAlreadyInterruptedIsNotFailedAndKeepsItsFlag() throws Exception {
        RedisNode hung = node(OPERATION_TIMEOUT);
        Future<Boolean> interruptedAfterwards = threads.submit(() -> {
            Thread.currentThread().interrupt();
            Subscription subscription = hung.onRelease("released:a", () -> { });
            boolean flag = Thread.currentThread().isInterrupted();
            subscription.close();
            return flag;
        });
        assertThat(interruptedAfterwards.get(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
    }
}
