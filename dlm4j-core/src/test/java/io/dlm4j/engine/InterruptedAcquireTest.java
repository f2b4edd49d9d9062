package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.held;
import static io.dlm4j.engine.EngineFixture.mutex;
import static io.dlm4j.engine.ScriptedStore.applyThenTimeOut;
import static io.dlm4j.engine.ScriptedStore.applyThenWait;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 11, defect 1: an acquire that fails without a reply is undone, and only what it created. */
class InterruptedAcquireTest {

    private static final Duration TTL = Duration.ofSeconds(10);

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final CountDownLatch applied = new CountDownLatch(1);
    private final CountDownLatch never = new CountDownLatch(1);

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    @Test
    @DisplayName("an interrupt during the acquire call: the undo runs with the flag cleared, no hold is left, the flag is clear after InterruptedException")
    void undoRunsWithTheFlagCleared() throws Exception {
        store.marksAttempts = false; // the engine's fallback: a plain release
        Mutex mutex = mutex(fixture.dlm(), OWNER, TTL, false);
        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("lock()", mutex::lock);
        applied.await();
        locker.thread.interrupt();

        assertThat(locker.failure()).isInstanceOf(InterruptedException.class);
        assertThat(store.peek(KEY)).as("the hold the interrupted acquire made").isEmpty();
        assertThat(store.calls).contains("release k o").doesNotContain("release k o [interrupted]");
        assertThat(locker.interruptedAfter()).as("interrupt flag after InterruptedException").isFalse();
    }

    @Test
    @DisplayName("with attempt marks, an interrupted acquire is undone by its mark")
    void undoByMark() throws Exception {
        Mutex mutex = mutex(fixture.dlm(), OWNER, TTL, false);
        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("lock()", mutex::lock);
        applied.await();
        locker.thread.interrupt();

        assertThat(locker.failure()).isInstanceOf(InterruptedException.class);
        assertThat(store.peek(KEY)).isEmpty();
        assertThat(store.calls).contains("undo k o").noneMatch(c -> c.startsWith("release"));
    }

    @Test
    @DisplayName("another thread of the owner cannot acquire while a failed attempt decides: its hold is never undone")
    void siblingAcquireIsNotUndone() throws Exception {
        store.marksAttempts = false;
        StoreBackedDlm dlm = fixture.dlm();
        Mutex first = mutex(dlm, OWNER, TTL, false);
        Mutex second = mutex(dlm, OWNER, TTL, false);
        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("first lock()", first::lock);
        applied.await();
        var sibling = fixture.inBackground("second tryLock()", second::tryLock);
        sibling.awaitParked(); // in the holder's serial section, behind the first attempt
        assertThat(store.count("acquire")).as("acquires sent while the first is undecided").isEqualTo(1);

        locker.thread.interrupt();
        assertThat(locker.failure()).isInstanceOf(InterruptedException.class);
        Optional<Lease> lease = sibling.get();
        assertThat(lease).as("the second thread's lease").isPresent();
        assertThat(lease.get().isValid()).isTrue();
        assertThat(store.peek(KEY)).as("the store holds what the valid lease says")
                .hasValueSatisfying(h -> assertThat(h.fencingToken()).isEqualTo(lease.get().fencingToken()));
    }

    @Test
    @DisplayName("an expired lease that was never closed does not count as a hold that existed before")
    void expiredLeaseDoesNotCount() throws Exception {
        store.marksAttempts = false;
        StoreBackedDlm dlm = fixture.dlm();
        Mutex mutex = mutex(dlm, OWNER, Duration.ofSeconds(1), false);
        Lease old = held(mutex);
        fixture.scheduler.advance(Duration.ofSeconds(2));
        assertThat(old.isValid()).isFalse();

        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("lock()", mutex::lock);
        applied.await();
        locker.thread.interrupt();
        assertThat(locker.failure()).isInstanceOf(InterruptedException.class);
        assertThat(store.peek(KEY)).as("the hold the interrupted acquire made").isEmpty();
    }

    @Test
    @DisplayName("interrupted and then closed (the CLI's shutdown hook): the undo still runs, before the store closes")
    void interruptThenCloseStillUndoes() throws Exception {
        store.marksAttempts = false;
        StoreBackedDlm dlm = fixture.dlm();
        Mutex mutex = mutex(dlm, OWNER, TTL, false);
        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("lock()", mutex::lock);
        applied.await();
        var closer = fixture.inBackground("close()", () -> {
            dlm.close();
            return null;
        });
        while (!dlm.isClosed()) {
            Thread.onSpinWait();
        }
        locker.thread.interrupt();

        assertThat(locker.failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        closer.get();
        assertThat(store.peek(KEY)).as("the hold the interrupted acquire made").isEmpty();
        assertThat(store.calledWhileClosedOrClosedUnderACall).as("store used after or closed during a call").isFalse();
        assertThat(store.calls.indexOf("release k o")).isLessThan(store.calls.indexOf("close"));
    }

    @Test
    @DisplayName("a relock that times out or is interrupted never ends the hold the owner had before, in this Dlm or another")
    void failedRelockKeepsTheHold() throws Exception {
        StoreBackedDlm elsewhere = fixture.dlm();
        Lease existing = held(mutex(elsewhere, OWNER, TTL, false));
        Mutex relock = mutex(fixture.dlm(), OWNER, TTL, false);

        store.next("acquire", applyThenTimeOut());
        assertThatThrownBy(relock::tryLock).isInstanceOf(LockBackendException.class);
        store.next("acquire", applyThenWait(applied, never));
        var locker = fixture.inBackground("lock()", relock::lock);
        applied.await();
        locker.thread.interrupt();
        assertThat(locker.failure()).isInstanceOf(InterruptedException.class);

        assertThat(store.peek(KEY)).hasValueSatisfying(h -> assertThat(h.fencingToken()).isEqualTo(existing.fencingToken()));
        assertThat(existing.isValid()).isTrue();
    }

    @Test
    @DisplayName("a fresh acquire that timed out is undone by its mark; without marks the hold is left to its ttl")
    void timedOutAcquireUndoneOnlyByMark() {
        Mutex mutex = mutex(fixture.dlm(), OWNER, TTL, false);
        store.next("acquire", applyThenTimeOut());
        assertThatThrownBy(mutex::tryLock).isInstanceOf(LockBackendException.class);
        assertThat(store.peek(KEY)).as("after an undo by mark").isEmpty();

        store.marksAttempts = false;
        store.next("acquire", applyThenTimeOut());
        assertThatThrownBy(mutex::tryLock).isInstanceOf(LockBackendException.class);
        assertThat(store.peek(KEY)).as("without marks a release could end another process's hold of the owner")
                .isPresent();
    }

    @Test
    @DisplayName("a thread interrupted inside tryLock() gets its flag back, and no hold is left")
    void tryLockKeepsTheFlag() throws Exception {
        Mutex mutex = mutex(fixture.dlm(), OWNER, TTL, false);
        store.next("acquire", applyThenWait(applied, never));
        var trier = fixture.inBackground("tryLock()", mutex::tryLock);
        applied.await();
        trier.thread.interrupt();
        assertThat(trier.failure()).isInstanceOf(LockBackendException.class);
        assertThat(trier.interruptedAfter()).as("interrupt flag after tryLock").isTrue();
        assertThat(store.peek(KEY)).isEmpty();
    }
}
