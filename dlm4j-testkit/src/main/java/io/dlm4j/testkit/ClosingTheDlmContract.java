package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of {@code Dlm.close()} (docs/CONTRACT.md): it ends the waits and releases
 * the holds of that Dlm, and of no other. Run by {@link ConformanceSuite} as its nested
 * {@code ClosingTheDlm} tests.
 */
public interface ClosingTheDlmContract extends ConformanceFixture {

    @Test
    @DisplayName("ends a wait in lock() on that Dlm with IllegalStateException, leaving no hold")
    default void endsAWaitOnIt() throws InterruptedException {
        Dlm holderDlm = dlm(OWNER_A);
        Dlm waiterDlm = dlm(DlmOptions.builder().defaultOwner(OWNER_B).waitingInterval(Duration.ofSeconds(30)).build());
        Lease held = acquired(holderDlm.newMutex(key(), LONG_TTL).tryLock(), "holder's tryLock");
        Mutex waiting = waiterDlm.newMutex(key());
        Attempt<Lease> waiter = inBackground("owner-b lock()", waiting::lock);
        awaitBlocked(waiter);

        waiterDlm.close(); // at once, though the waiter's next try is 30 s away
        assertThat(waiter.failure(Duration.ofSeconds(3))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        held.close();
        assertThat(holderDlm.newMutex(key()).holder()).as("no hold left by the closed Dlm's waiter").isEmpty();
    }

    @Test
    @DisplayName("releases the leases held through it (another owner locks at once), invalidates them, runs no onLost")
    default void releasesHeldLeases() {
        Dlm a = dlm(OWNER_A);
        Dlm b = dlm(OWNER_B);
        Lease plain = acquired(a.newMutex(key("plain")).tryLock(), "plain tryLock");
        Lease refreshing = acquired(a.newMutex(MutexOptions.builder(key("refreshing"))
                .ttl(Duration.ofMillis(600)).autoRefresh(true).build()).tryLock(), "auto-refreshing tryLock");
        AtomicInteger lost = new AtomicInteger();
        plain.onLost(lost::incrementAndGet);
        refreshing.onLost(lost::incrementAndGet);

        a.close();
        assertThat(plain.isValid()).isFalse();
        assertThat(refreshing.isValid()).isFalse();
        Mutex bPlain = b.newMutex(key("plain"));
        Mutex bRefreshing = b.newMutex(key("refreshing"));
        assertThat(bPlain.holder()).as("holder after close").isEmpty();
        assertThat(bRefreshing.holder()).as("holder after close").isEmpty();
        Lease takenPlain = acquired(bPlain.tryLock(), "owner-b's tryLock on the plain key");
        Lease takenRefreshing = acquired(bRefreshing.tryLock(), "owner-b's tryLock on the refreshing key");
        assertThat(takenPlain.fencingToken()).isGreaterThan(plain.fencingToken());
        assertThat(takenRefreshing.fencingToken()).isGreaterThan(refreshing.fencingToken());
        throughout("no onLost, and owner-b keeps both locks", Duration.ofMillis(1000)).until(() -> lost.get() == 0
                && bPlain.holder().map(LockInfo::owner).equals(Optional.of(OWNER_B))
                && bRefreshing.holder().map(LockInfo::owner).equals(Optional.of(OWNER_B)));
        takenPlain.close();
        takenRefreshing.close();
    }

    @Test
    @DisplayName("is idempotent")
    default void closeIsIdempotent() {
        Dlm a = dlm(OWNER_A);
        Lease lease = acquired(a.newMutex(key()).tryLock(), "tryLock");
        a.close();
        a.close();
        assertThat(lease.isValid()).isFalse();
        lease.close();
        assertThat(dlm(OWNER_B).newMutex(key()).holder()).isEmpty();
    }

    @Test
    @DisplayName("leaves the other Dlms on the backend working (never closes a client passed in)")
    default void leavesOtherDlmsWorking() {
        Dlm a = dlm(OWNER_A);
        Dlm b = dlm(OWNER_B);
        acquired(a.newMutex(key("a")).tryLock(), "owner-a's tryLock");
        a.close();
        assertThat(b.ping().isNegative()).isFalse();
        try (Lease lease = acquired(b.newMutex(key("b")).tryLock(), "owner-b's tryLock after owner-a's Dlm closed")) {
            assertThat(lease.refresh()).isTrue();
        }
        Dlm c = dlm(OWNER_C);
        try (Lease lease = acquired(c.newMutex(key("a")).tryLock(), "a new Dlm's tryLock after another Dlm closed")) {
            assertThat(lease.owner()).isEqualTo(OWNER_C);
        }
    }

    @Test
    @DisplayName("does not release the holds of another Dlm")
    default void doesNotReleaseOtherDlmsHolds() {
        Dlm a = dlm(OWNER_A);
        Dlm b = dlm(OWNER_B);
        acquired(a.newMutex(key("a")).tryLock(), "owner-a's tryLock");
        Lease bLease = acquired(b.newMutex(key("b")).tryLock(), "owner-b's tryLock");
        a.close();
        assertThat(bLease.isValid()).isTrue();
        Mutex c = dlm(OWNER_C).newMutex(key("b"));
        assertThat(c.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
        assertThat(c.tryLock()).isEmpty();
        assertThat(bLease.refresh()).isTrue();
        bLease.close();
    }

    @Test
    @DisplayName("does not release a hold that its lease gave up and the same owner took again through another Dlm")
    default void doesNotReleaseWhatItNoLongerHolds() {
        Dlm first = dlm(OWNER_A);
        Dlm second = dlm(OWNER_A);
        Lease old = acquired(first.newMutex(key()).tryLock(), "tryLock through the first Dlm");
        old.close();
        Lease current = acquired(second.newMutex(key()).tryLock(), "tryLock through the second Dlm");
        first.close();
        assertThat(current.isValid()).isTrue();
        assertThat(second.newMutex(key()).holder()).as("holder after the first Dlm closed")
                .get().extracting(LockInfo::fencingToken).isEqualTo(current.fencingToken());
        assertThat(dlm(OWNER_B).newMutex(key()).tryLock()).isEmpty();
        current.close();
    }
}
