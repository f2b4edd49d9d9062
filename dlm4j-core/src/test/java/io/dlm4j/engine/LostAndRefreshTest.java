package io.dlm4j.engine;

import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.held;
import static io.dlm4j.engine.EngineFixture.mutex;
import static io.dlm4j.engine.ScriptedStore.fail;
import static io.dlm4j.engine.ScriptedStore.waitThenApply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Issue 11, defect 4: onLost on time and off the refresh path; refreshes that never block a release. */
class LostAndRefreshTest {

    private static final Duration TTL = Duration.ofSeconds(3); // refreshed every second

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final AtomicInteger lost = new AtomicInteger();

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    @Test
    @DisplayName("an auto-refreshed lease whose refreshes fail is lost at its local expiry, not at the end of a late round")
    void lostAtLocalExpiry() throws Exception {
        Lease lease = held(mutex(fixture.dlm(), OWNER, TTL, true));
        lease.onLost(lost::incrementAndGet);
        store.next("refresh", fail(new IllegalStateException("no answer (scripted)")));
        CountDownLatch hangs = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        store.next("refresh", waitThenApply(hangs, never)); // the second round hangs past the expiry

        fixture.scheduler.advance(Duration.ofSeconds(1));
        fixture.drainRefreshWorker();
        fixture.scheduler.advance(Duration.ofSeconds(1));
        hangs.await(5, TimeUnit.SECONDS);
        fixture.scheduler.advance(Duration.ofMillis(999));
        assertThat(lease.isValid()).as("1 ms before the local expiry").isTrue();
        assertThat(lost.get()).isZero();

        fixture.scheduler.advance(Duration.ofMillis(1));
        assertThat(lease.isValid()).as("at the local expiry").isFalse();
        assertThat(lost.get()).as("onLost at the local expiry, with a refresh still hanging").isEqualTo(1);
        never.countDown();
        fixture.drainRefreshWorker();
        assertThat(lost.get()).as("onLost runs once").isEqualTo(1);
    }

    @Test
    @DisplayName("a lease is closed at once while its refresh batch hangs in the store")
    void closeDoesNotWaitForARefresh() throws Exception {
        Lease lease = held(mutex(fixture.dlm(), OWNER, TTL, true));
        CountDownLatch hangs = new CountDownLatch(1);
        CountDownLatch later = new CountDownLatch(1);
        store.next("refresh", waitThenApply(hangs, later));
        fixture.scheduler.advance(Duration.ofSeconds(1));
        hangs.await(5, TimeUnit.SECONDS);

        assertTimeoutPreemptively(Duration.ofSeconds(5), lease::close);
        assertThat(lease.isValid()).isFalse();
        assertThat(store.peek(KEY)).isEmpty();
        later.countDown();
        fixture.drainRefreshWorker();
        assertThat(lease.isValid()).as("a late refresh answer does not revive a closed lease").isFalse();
        assertThat(store.peek(KEY)).as("nor the hold").isEmpty();
    }

    @Test
    @DisplayName("callbacks run on the callback executor, never on the refresh or scheduler thread")
    void callbacksOnTheirExecutor() throws Exception {
        List<Runnable> handed = new CopyOnWriteArrayList<>();
        StoreBackedDlm dlm = fixture.dlm(DlmOptions.builder().callbackExecutor(handed::add));
        Lease lease = held(mutex(dlm, OWNER, TTL, true));
        lease.onLost(lost::incrementAndGet);
        store.drop(KEY);
        fixture.scheduler.advance(Duration.ofSeconds(1));
        fixture.drainRefreshWorker();
        assertThat(lease.isValid()).isFalse();
        assertThat(lost.get()).as("callbacks run before the executor ran them").isZero();
        assertThat(handed).hasSize(1);
        handed.get(0).run();
        assertThat(lost.get()).isEqualTo(1);
    }

    @Test
    @DisplayName("a loss found by the caller's refresh() runs onLost on the caller's thread before refresh() returns false")
    void refreshFindingTheLossRunsCallbacksFirst() {
        StoreBackedDlm dlm = fixture.dlm(DlmOptions.builder()); // its own callback thread
        Lease lease = held(mutex(dlm, OWNER, TTL, false));
        Thread caller = Thread.currentThread();
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        lease.onLost(() -> ranOn.add(Thread.currentThread()));
        store.drop(KEY);
        assertThat(lease.refresh()).isFalse();
        assertThat(ranOn).containsExactly(caller);
        dlm.close();
    }

    @Test
    @DisplayName("by default a callback runs on the Dlm's callback thread, and a slow one holds up no refresh")
    void slowCallbackDelaysNoRefresh() throws Exception {
        StoreBackedDlm dlm = fixture.dlm(DlmOptions.builder());
        Lease victim = dlm.newMutex(io.dlm4j.MutexOptions.builder("victim").ttl(TTL).autoRefresh(true).build())
                .tryLock().orElseThrow();
        Lease other = held(mutex(dlm, OWNER, TTL, true));
        CompletableFuture<String> callbackThread = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        victim.onLost(() -> {
            callbackThread.complete(Thread.currentThread().getName());
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        store.drop("victim");
        fixture.scheduler.advance(Duration.ofSeconds(1));
        fixture.drainRefreshWorker();
        assertThat(callbackThread.get(5, TimeUnit.SECONDS)).startsWith("dlm4j-callbacks-");

        long refreshes = store.count("refresh");
        fixture.scheduler.advance(Duration.ofSeconds(1)); // the callback still blocks
        fixture.drainRefreshWorker();
        assertThat(store.count("refresh")).as("refreshes while a callback blocks").isGreaterThan(refreshes);
        assertThat(other.isValid()).isTrue();
        release.countDown();
        dlm.close();
    }
}
