package io.dlm4j.engine;

import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Dlms on one {@link ScriptedStore}, a {@link ManualTicker} and a {@link ManualScheduler}: time
 * moves only when the test says, timers run on the test's thread, and refresh rounds on a worker
 * thread of their own (so that a hanging refresh does not hang the test).
 */
final class EngineFixture implements AutoCloseable {

    static final String KEY = "k";
    static final String OWNER = "o";
    static final String OTHER = "p";

    final ManualTicker ticker = new ManualTicker();
    final ManualScheduler scheduler = new ManualScheduler(ticker);
    final ScriptedStore store = new ScriptedStore(ticker);
    final ExecutorService refreshWorker = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-refresh"));
    private final List<StoreBackedDlm> dlms = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    /** The clock of the Dlms: the ticker's nanoseconds as an instant, so expiresAt moves with it. */
    final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochSecond(0, ticker.read());
        }
    };

    /** A Dlm whose onLost callbacks run on the thread that finds the loss, so tests see them at once. */
    StoreBackedDlm dlm() {
        return dlm(DlmOptions.builder().callbackExecutor(Runnable::run));
    }

    StoreBackedDlm dlm(DlmOptions.Builder options) {
        StoreBackedDlm dlm = new StoreBackedDlm(store, options.defaultOwner(OWNER).clock(clock).build(),
                ticker, scheduler, refreshWorker);
        dlms.add(dlm);
        return dlm;
    }

    static Mutex mutex(StoreBackedDlm dlm, String owner, Duration ttl, boolean autoRefresh) {
        return dlm.newMutex(MutexOptions.builder(KEY).owner(owner).ttl(ttl).autoRefresh(autoRefresh).build());
    }

    static Lease held(Mutex mutex) {
        return mutex.tryLock().orElseThrow(() -> new AssertionError(mutex + " should acquire"));
    }

    /** Runs {@code task} on a thread of its own; the fixture interrupts and joins it at the end. */
    <T> Background<T> inBackground(String name, Callable<T> task) {
        Background<T> background = new Background<>(name, task);
        threads.add(background.thread);
        background.thread.start();
        return background;
    }

    /** Waits until the refresh worker has run everything handed to it so far. */
    void drainRefreshWorker() throws Exception {
        refreshWorker.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        for (Thread thread : threads) {
            thread.interrupt();
            thread.join(5_000);
        }
        refreshWorker.shutdownNow();
    }

    static final class Background<T> {
        final Thread thread;
        private final CompletableFuture<T> outcome = new CompletableFuture<>();
        private volatile boolean interruptedAfter;

        private Background(String name, Callable<T> task) {
            thread = new Thread(() -> {
                try {
                    T value = task.call();
                    interruptedAfter = Thread.currentThread().isInterrupted();
                    outcome.complete(value);
                } catch (Throwable e) {
                    interruptedAfter = Thread.currentThread().isInterrupted();
                    outcome.completeExceptionally(e);
                }
            }, name);
            thread.setDaemon(true);
        }

        boolean isDone() {
            return outcome.isDone();
        }

        /** Whether the thread's interrupt flag was set when the task ended. */
        boolean interruptedAfter() {
            return interruptedAfter;
        }

        T get() throws Exception {
            try {
                return outcome.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new AssertionError(thread.getName() + " failed", e.getCause());
            }
        }

        Throwable failure() throws Exception {
            try {
                T value = outcome.get(10, TimeUnit.SECONDS);
                throw new AssertionError(thread.getName() + " should have failed, but returned " + value);
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                throw new AssertionError(thread.getName() + " did not finish");
            }
        }

        /** Waits until the thread parks (in a lock, a latch or a wait); it must not have finished. */
        void awaitParked() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Thread.State state = thread.getState();
                if (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING) {
                    return;
                }
                if (isDone()) {
                    throw new AssertionError(thread.getName() + " finished instead of waiting");
                }
                Thread.sleep(1); // polling a thread's state: there is nothing to wait on
            }
            throw new AssertionError(thread.getName() + " never parked");
        }
    }
}
