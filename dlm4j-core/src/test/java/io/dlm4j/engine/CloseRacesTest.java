package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OTHER;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.held;
import static io.dlm4j.engine.EngineFixture.mutex;
import static io.dlm4j.engine.ScriptedStore.applyThenWait;
import static io.dlm4j.engine.ScriptedStore.waitThenApply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 11, defect 6: a Dlm closed while one of its calls is in progress ends that call with
 * IllegalStateException, after letting it finish with the store, and never closes the store under it.
 */
class CloseRacesTest {

    private static final Duration TTL = Duration.ofSeconds(10);

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    @Test
    @DisplayName("closed while a waiter subscribes to release notices: the waiter gets IllegalStateException, the store closes after")
    void closeWhileSubscribing() throws Exception {
        held(mutex(fixture.dlm(), OTHER, TTL, false));
        StoreBackedDlm dlm = fixture.dlm();
        Mutex waiting = mutex(dlm, OWNER, TTL, false);
        store.next("onRelease", waitThenApply(entered, go));
        var waiter = fixture.inBackground("lock()", waiting::lock);
        entered.await();
        var closer = closeInBackground(dlm);

        closer.awaitParked(); // waiting for the subscription in progress
        assertThat(store.closed).as("store closed under a subscription in progress").isFalse();
        go.countDown();
        assertThat(waiter.failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        closer.get();
        assertThat(store.closed).isTrue();
        assertThat(store.calledWhileClosedOrClosedUnderACall).isFalse();
    }

    @Test
    @DisplayName("closed while an acquire is in flight: the lock() gets IllegalStateException and the hold it got is released before the store closes")
    void closeWhileAcquiring() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        Mutex mutex = mutex(dlm, OWNER, TTL, false);
        store.next("acquire", applyThenWait(entered, go));
        var locker = fixture.inBackground("lock()", mutex::lock);
        entered.await();
        var closer = closeInBackground(dlm);
        closer.awaitParked();
        go.countDown();

        assertThat(locker.failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        closer.get();
        assertThat(store.peek(KEY)).isEmpty();
        assertThat(store.calls.indexOf("release k o")).isLessThan(store.calls.indexOf("close"));
        assertThat(store.calledWhileClosedOrClosedUnderACall).isFalse();
    }

    @Test
    @DisplayName("closed while a relock is in flight: the relock fails, and the hold the owner had before stays")
    void closeWhileRelockingKeepsTheHold() throws Exception {
        Lease existing = held(mutex(fixture.dlm(), OWNER, TTL, false));
        StoreBackedDlm dlm = fixture.dlm();
        Mutex relock = mutex(dlm, OWNER, TTL, false);
        store.next("acquire", applyThenWait(entered, go));
        var locker = fixture.inBackground("lock()", relock::lock);
        entered.await();
        var closer = closeInBackground(dlm);
        closer.awaitParked();
        go.countDown();

        assertThat(locker.failure()).isInstanceOf(IllegalStateException.class);
        closer.get();
        assertThat(store.peek(KEY)).hasValueSatisfying(h -> assertThat(h.fencingToken()).isEqualTo(existing.fencingToken()));
        assertThat(existing.isValid()).isTrue();
    }

    @Test
    @DisplayName("closed while a refresh round is in the store: the store closes after the round, and the lease is released")
    void closeWhileRefreshing() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        Lease lease = held(mutex(dlm, OWNER, Duration.ofSeconds(3), true));
        store.next("refresh", waitThenApply(entered, go));
        fixture.scheduler.advance(Duration.ofSeconds(1));
        entered.await(5, TimeUnit.SECONDS);
        var closer = closeInBackground(dlm);
        closer.awaitParked();
        assertThat(store.closed).isFalse();
        go.countDown();
        closer.get();
        assertThat(lease.isValid()).isFalse();
        assertThat(store.peek(KEY)).isEmpty();
        assertThat(store.calledWhileClosedOrClosedUnderACall).isFalse();
    }

    @Test
    @DisplayName("after close every call throws IllegalStateException at once; a lease refuses to refresh and closes quietly")
    void callsAfterClose() {
        StoreBackedDlm dlm = fixture.dlm();
        Mutex mutex = mutex(dlm, OWNER, TTL, false);
        Lease lease = held(mutex);
        dlm.close();
        long calls = store.calls.size();

        assertThatThrownBy(() -> dlm.newMutex(KEY)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(mutex::lock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> mutex.lock(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(mutex::tryLock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(mutex::unlock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(mutex::holder).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(dlm::ping).isInstanceOf(IllegalStateException.class);
        assertThat(lease.refresh()).isFalse();
        lease.close();
        assertThat(store.calls).as("store calls after close").hasSize((int) calls);
    }

    @Test
    @DisplayName("close() on an interrupted thread still waits for the call in progress before closing the store")
    void interruptedCloserStillWaits() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        Mutex mutex = mutex(dlm, OWNER, TTL, false);
        store.next("acquire", applyThenWait(entered, go));
        var locker = fixture.inBackground("lock()", mutex::lock);
        entered.await();
        var closer = fixture.inBackground("interrupted close()", () -> {
            Thread.currentThread().interrupt();
            dlm.close();
            return Thread.currentThread().isInterrupted();
        });
        closer.awaitParked();
        assertThat(store.closed).isFalse();
        go.countDown();
        assertThat(locker.failure()).isInstanceOf(IllegalStateException.class);
        assertThat(closer.get()).as("the closer's interrupt flag, kept").isTrue();
        assertThat(store.peek(KEY)).isEmpty();
        assertThat(store.calledWhileClosedOrClosedUnderACall).isFalse();
    }

    @Test
    @DisplayName("a try queued behind a call that the close waits for sends nothing to the store and ends with IllegalStateException")
    void queuedTryAfterCloseSendsNothing() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        store.next("acquire", applyThenWait(entered, go));
        var first = fixture.inBackground("first lock()", mutex(dlm, OWNER, TTL, false)::lock);
        entered.await();
        var queued = fixture.inBackground("queued tryLock()", mutex(dlm, OWNER, TTL, false)::tryLock);
        queued.awaitParked();
        var closer = closeInBackground(dlm);
        closer.awaitParked();
        go.countDown();
        assertThat(first.failure()).isInstanceOf(IllegalStateException.class);
        assertThat(queued.failure()).isInstanceOf(IllegalStateException.class);
        closer.get();
        assertThat(store.count("acquire")).as("acquires sent").isEqualTo(1);
        assertThat(store.calledWhileClosedOrClosedUnderACall).isFalse();
    }

    private EngineFixture.Background<Void> closeInBackground(StoreBackedDlm dlm) {
        return fixture.inBackground("close()", () -> {
            dlm.close();
            return null;
        });
    }
}
