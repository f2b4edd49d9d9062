package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.held;
import static io.dlm4j.engine.EngineFixture.mutex;
import static org.assertj.core.api.Assertions.assertThat;

/** Issue 11, defects 2 and 3: the leases of one key and owner in a Dlm are one hold. */
class SiblingLeasesTest {

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final StoreBackedDlm dlm = fixture.dlm();
    private final AtomicInteger lost = new AtomicInteger();

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    @Test
    @DisplayName("Lease.close() ends every lease of the hold in the Dlm; none of their onLost runs")
    void closeEndsSiblings() {
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(3), true));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(3), false));
        first.onLost(lost::incrementAndGet);
        second.onLost(lost::incrementAndGet);

        first.close();
        assertThat(second.isValid()).as("the sibling after close").isFalse();
        assertThat(second.refresh()).isFalse();
        assertThat(store.peek(KEY)).isEmpty();
        fixture.scheduler.advance(Duration.ofSeconds(10));
        assertThat(lost.get()).as("onLost calls").isZero();
        assertThat(dlm.holders().size()).isZero();
    }

    @Test
    @DisplayName("Mutex.unlock() on another Mutex object of the key and owner ends every lease of the hold")
    void unlockEndsEveryLease() {
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(3), false));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(3), true));
        second.onLost(lost::incrementAndGet);

        mutex(dlm, OWNER, Duration.ofSeconds(3), false).unlock();
        assertThat(first.isValid()).isFalse();
        assertThat(second.isValid()).isFalse();
        fixture.scheduler.advance(Duration.ofSeconds(10));
        assertThat(lost.get()).isZero();
        assertThat(store.count("refresh")).as("refreshes of an ended lease").isZero();
    }

    @Test
    @DisplayName("after a relock with a longer ttl, the earlier lease reports the store's longer expiry")
    void relockExtendsSiblings() {
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(10), false));
        fixture.scheduler.advance(Duration.ofSeconds(1));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(30), false));
        assertThat(second.fencingToken()).isEqualTo(first.fencingToken());
        assertThat(first.expiresAt()).isEqualTo(second.expiresAt())
                .isEqualTo(fixture.clock.instant().plus(Duration.ofSeconds(30)));
        fixture.scheduler.advance(Duration.ofSeconds(15));
        assertThat(first.isValid()).as("the first lease past its own ttl, within the store's").isTrue();
    }

    @Test
    @DisplayName("a relock the store keeps longer than asked (it never shortens) leaves every lease on the store's expiry")
    void shorterRelockKeepsTheExpiry() {
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(30), false));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(2), false));
        assertThat(second.expiresAt()).isEqualTo(first.expiresAt());
        fixture.scheduler.advance(Duration.ofSeconds(5));
        assertThat(first.isValid()).isTrue();
        assertThat(second.isValid()).isTrue();
    }

    @Test
    @DisplayName("the engine never assumes a store kept the longer expiry: after a store shortened the hold, every lease says so")
    void shortenedHoldShortensEveryLease() {
        store.shortensHolds = true;
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(30), false));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(2), false));
        assertThat(first.expiresAt()).isEqualTo(second.expiresAt())
                .isEqualTo(fixture.clock.instant().plus(Duration.ofSeconds(2)));
        fixture.scheduler.advance(Duration.ofSeconds(3));
        assertThat(first.isValid()).as("the lease whose hold the store shortened").isFalse();
    }

    @Test
    @DisplayName("a refresh through one lease moves the expiry of every lease of the hold")
    void refreshMovesSiblings() {
        Lease first = held(mutex(dlm, OWNER, Duration.ofSeconds(10), false));
        Lease second = held(mutex(dlm, OWNER, Duration.ofSeconds(10), false));
        fixture.scheduler.advance(Duration.ofSeconds(8));
        assertThat(second.refresh()).isTrue();
        assertThat(first.expiresAt()).isEqualTo(fixture.clock.instant().plus(Duration.ofSeconds(10)));
        fixture.scheduler.advance(Duration.ofSeconds(5));
        assertThat(first.isValid()).isTrue();
    }

    @Test
    @DisplayName("an onLost that unlocks the key, found by an acquire, runs after that acquire: its unlock ends the new lease too, never leaving a valid lease without a hold")
    void callbackUnlockingRunsAfterTheAcquire() {
        Mutex mutex = mutex(dlm, OWNER, Duration.ofSeconds(10), false);
        Lease old = held(mutex);
        old.onLost(mutex::unlock); // a cleanup in the callback, on the thread that found the loss
        store.drop(KEY);
        Lease fresh = held(mutex);
        // the callback ran after the new lease was admitted, so its unlock ended the new lease too:
        // never a valid lease without a hold
        assertThat(fresh.isValid()).isEqualTo(store.peek(KEY).isPresent());
        assertThat(fresh.isValid()).isFalse();
    }

    @Test
    @DisplayName("when the owner acquires anew (a new token), the leases of the ended hold are lost")
    void newTokenLosesOldLeases() {
        Mutex mutex = mutex(dlm, OWNER, Duration.ofSeconds(10), false);
        Lease old = held(mutex);
        old.onLost(lost::incrementAndGet);
        store.drop(KEY); // a cleanup of the record behind the engine's back
        Lease fresh = held(mutex);
        assertThat(fresh.fencingToken()).isGreaterThan(old.fencingToken());
        assertThat(old.isValid()).isFalse();
        assertThat(fresh.isValid()).isTrue();
        assertThat(lost.get()).isEqualTo(1);
    }
}
