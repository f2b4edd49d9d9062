package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance tests of the owner rule of docs/CONTRACT.md: the same key and owner are one
 * holder, through any Mutex, any Dlm and any process. Run by {@link ConformanceSuite} as its nested
 * {@code OwnerRule} tests.
 */
public interface OwnerRuleContract extends ConformanceFixture {

    @Test
    @DisplayName("a second Dlm with the same owner locks at once, keeps the token, extends the expiry; others are kept out")
    default void sameOwnerOnSecondDlmRelocksAtOnce() throws InterruptedException {
        Mutex first = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(1));
        Duration longer = Duration.ofSeconds(10);
        Mutex second = dlm(OWNER_A).newMutex(key(), longer);
        Mutex other = dlm(OWNER_B).newMutex(key());

        Lease lease1 = acquired(first.tryLock(), "first tryLock");
        Instant before = clock().instant();
        long start = now();
        Lease lease2 = acquired(second.tryLock(), "the same owner's tryLock through another Dlm");
        Instant after = clock().instant();
        assertThat(since(start)).as("succeeds at once").isLessThan(LATE_SLACK);
        assertThat(lease2.fencingToken()).as("same hold, same token").isEqualTo(lease1.fencingToken());
        assertThat(lease2.owner()).isEqualTo(OWNER_A);
        assertExpiresAt(lease2.expiresAt(), before, after, longer);

        LockInfo info = other.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
        assertThat(info.owner()).isEqualTo(OWNER_A);
        assertThat(info.fencingToken()).isEqualTo(lease1.fencingToken());
        assertThat(info.expiresAt()).as("expiry extended to the relock's ttl")
                .isAfter(lease1.expiresAt().plus(Duration.ofSeconds(5)));

        assertThat(other.tryLock()).as("another owner's tryLock while held").isEmpty();
        assertThatThrownBy(() -> other.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
        lease2.close();
        lease1.close();
    }

    @Test
    @DisplayName("leases of the same owner through two Dlms refresh each other's hold")
    default void sameOwnerRefreshesThroughEitherDlm() {
        Mutex first = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
        Mutex second = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
        Lease lease1 = acquired(first.tryLock(), "first tryLock");
        Lease lease2 = acquired(second.tryLock(), "second tryLock");
        assertThat(lease1.refresh()).as("refresh through the first Dlm").isTrue();
        assertThat(lease2.refresh()).as("refresh through the second Dlm").isTrue();
        assertThat(lease1.isValid()).isTrue();
        assertThat(lease2.isValid()).isTrue();
        assertThat(first.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease1.fencingToken());
        lease1.close();
    }

    @Test
    @DisplayName("one unlock through the other Dlm releases a hold locked twice (locks are not counted)")
    default void oneUnlockFromOtherDlmReleases() {
        Mutex first = dlm(OWNER_A).newMutex(key());
        Mutex second = dlm(OWNER_A).newMutex(key());
        Mutex other = dlm(OWNER_B).newMutex(key());
        acquired(first.tryLock(), "first tryLock");
        acquired(second.tryLock(), "second tryLock");
        acquired(first.tryLock(), "third tryLock");

        second.unlock();
        assertThat(first.holder()).as("holder after one unlock").isEmpty();
        try (Lease taken = acquired(other.tryLock(), "another owner's tryLock after the unlock")) {
            assertThat(taken.owner()).isEqualTo(OWNER_B);
        }
    }

    @Test
    @DisplayName("closing the first lease releases the hold although the same owner relocked it elsewhere")
    default void closingFirstLeaseReleasesRelockedHold() {
        Mutex first = dlm(OWNER_A).newMutex(key());
        Mutex second = dlm(OWNER_A).newMutex(key());
        Mutex other = dlm(OWNER_B).newMutex(key());
        Lease lease1 = acquired(first.tryLock(), "first tryLock");
        Lease lease2 = acquired(second.tryLock(), "second tryLock");

        lease1.close();
        assertThat(second.holder()).as("holder after closing the first lease").isEmpty();
        try (Lease taken = acquired(other.tryLock(), "another owner's tryLock")) {
            assertThat(lease2.refresh()).as("the second lease's refresh once another owner holds it").isFalse();
            assertThat(lease2.isValid()).isFalse();
            assertThat(taken.fencingToken()).isGreaterThan(lease1.fencingToken());
        }
    }

    @Test
    @DisplayName("two Mutex objects of one Dlm with the same key and owner are one holder")
    default void twoMutexObjectsOfOneDlm() {
        Dlm dlm = dlm(OWNER_A);
        Mutex one = dlm.newMutex(key());
        Mutex two = dlm.newMutex(key());
        Lease lease = acquired(one.tryLock(), "tryLock through one mutex");
        Lease again = acquired(two.tryLock(), "tryLock through the other mutex");
        assertThat(again.fencingToken()).isEqualTo(lease.fencingToken());
        two.unlock();
        assertThat(one.holder()).as("holder after the other mutex's unlock").isEmpty();
        try (Lease taken = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "another owner's tryLock")) {
            assertThat(taken.owner()).isEqualTo(OWNER_B);
        }
    }
}
