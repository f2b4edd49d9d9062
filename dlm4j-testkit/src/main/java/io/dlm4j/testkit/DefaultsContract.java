package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of what a Dlm takes from its {@link io.dlm4j.DlmOptions} when a mutex
 * leaves the owner, the ttl or auto-refresh out (docs/CONTRACT.md). Run by {@link ConformanceSuite}
 * as its nested {@code Defaults} tests.
 */
public interface DefaultsContract extends ConformanceFixture {

    @Test
    @DisplayName("newMutex(key) takes the default owner and the default ttl")
    default void newMutexWithKeyTakesDefaults() {
        Duration ttl = Duration.ofSeconds(7);
        Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(ttl).build());
        Mutex mutex = dlm.newMutex(key());
        assertThat(mutex.key()).isEqualTo(key());
        assertThat(mutex.owner()).isEqualTo(OWNER_A);
        assertThat(mutex.ttl()).isEqualTo(ttl);

        Instant before = clock().instant();
        try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
            Instant after = clock().instant();
            assertThat(lease.owner()).isEqualTo(OWNER_A);
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
            assertThat(mutex.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
        }
    }

    @Test
    @DisplayName("newMutex(key, ttl) takes the default owner and the given ttl")
    default void newMutexWithTtlOverridesTtl() {
        Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(Duration.ofSeconds(7)).build());
        Duration ttl = Duration.ofSeconds(11);
        Mutex mutex = dlm.newMutex(key(), ttl);
        assertThat(mutex.key()).isEqualTo(key());
        assertThat(mutex.owner()).isEqualTo(OWNER_A);
        assertThat(mutex.ttl()).isEqualTo(ttl);

        Instant before = clock().instant();
        try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
            Instant after = clock().instant();
            assertThat(lease.owner()).isEqualTo(OWNER_A);
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
        }
    }

    @Test
    @DisplayName("MutexOptions without owner and ttl fall back to the defaults")
    default void mutexOptionsWithoutOwnerAndTtlFallBack() {
        Duration ttl = Duration.ofSeconds(7);
        Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(ttl).build());
        Mutex mutex = dlm.newMutex(MutexOptions.builder(key()).owner(null).ttl(null).autoRefresh(null).build());
        assertThat(mutex.key()).isEqualTo(key());
        assertThat(mutex.owner()).isEqualTo(OWNER_A);
        assertThat(mutex.ttl()).isEqualTo(ttl);

        Instant before = clock().instant();
        try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
            Instant after = clock().instant();
            assertThat(lease.owner()).isEqualTo(OWNER_A);
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
        }
    }

    @Test
    @DisplayName("MutexOptions owner and ttl apply to that mutex only; two owners in one Dlm are two holders")
    default void perMutexOwnerAndTtl() {
        Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(Duration.ofSeconds(7)).build());
        Duration ttl = Duration.ofSeconds(13);
        Mutex ofB = mutex(dlm, key(), OWNER_B, ttl);
        Mutex ofA = dlm.newMutex(key());
        assertThat(ofB.owner()).isEqualTo(OWNER_B);
        assertThat(ofB.ttl()).isEqualTo(ttl);
        assertThat(ofA.owner()).as("the default owner is untouched").isEqualTo(OWNER_A);
        assertThat(ofA.ttl()).isEqualTo(Duration.ofSeconds(7));

        Instant before = clock().instant();
        try (Lease lease = acquired(ofB.tryLock(), "owner-b's tryLock")) {
            Instant after = clock().instant();
            assertThat(lease.owner()).isEqualTo(OWNER_B);
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
            assertThat(ofA.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
            assertThat(ofA.tryLock()).as("the Dlm's default owner is another holder").isEmpty();
        }
    }

    @Test
    @DisplayName("DlmOptions.defaults(): host name, 30 s ttl, 100 ms interval, no auto-refresh, UTC clock, 10 s timeout")
    default void dlmOptionsDefaults() {
        DlmOptions defaults = DlmOptions.defaults();
        assertThat(defaults.defaultOwner()).isNotBlank();
        assertThat(defaults.defaultTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.waitingInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(defaults.autoRefresh()).isFalse();
        assertThat(defaults.clock()).isEqualTo(Clock.systemUTC());
        assertThat(defaults.operationTimeout()).isEqualTo(Duration.ofSeconds(10));

        Mutex mutex = dlm(defaults).newMutex(key());
        assertThat(mutex.owner()).isEqualTo(defaults.defaultOwner());
        assertThat(mutex.ttl()).isEqualTo(Duration.ofSeconds(30));
        try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
            assertThat(lease.owner()).isEqualTo(defaults.defaultOwner());
        }
    }
}
