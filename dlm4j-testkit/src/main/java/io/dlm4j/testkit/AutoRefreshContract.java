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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of auto-refresh (docs/CONTRACT.md): it keeps a hold past its ttl until the
 * lease is closed, and where it is switched on and off. Run by {@link ConformanceSuite} as its
 * nested {@code AutoRefresh} tests.
 */
public interface AutoRefreshContract extends ConformanceFixture {

    @Test
    @DisplayName("MutexOptions.autoRefresh(true), ttl 1 s: holds for 3 s, expiresAt moves on; after close another owner gets it")
    default void autoRefreshKeepsLock() {
        Duration ttl = Duration.ofSeconds(1);
        Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
        Mutex b = dlm(OWNER_B).newMutex(key());

        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        Instant firstExpiry = lease.expiresAt();
        Duration margin = ttl.dividedBy(4);
        throughout("owner-b is kept out; the lease stays valid, renewed well before its expiry", Duration.ofSeconds(3))
                .until(() -> b.tryLock().isEmpty() && lease.isValid()
                        && Duration.between(clock().instant(), lease.expiresAt()).compareTo(margin) > 0);
        assertThat(lease.expiresAt()).as("expiresAt after 3 s of auto-refresh")
                .isAfter(firstExpiry.plus(Duration.ofMillis(1500)));
        assertThat(b.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease.fencingToken());

        lease.close();
        assertThat(b.holder()).as("holder right after close").isEmpty();
        throughout("the closed auto-refreshing lease does not take the lock again", Duration.ofMillis(700)).until(() -> b.holder().isEmpty());
        try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock after close")) {
            assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
        }
    }

    @Test
    @DisplayName("250 auto-refreshed leases of one Dlm (more than one refresh batch) all stay held for 3 ttls; one taken over is lost alone")
    default void manyLeasesRefreshTogether() {
        // 2 s, not 1 s: a refresh round of 250 holds starved for more than two thirds of a 1 s ttl
        // on a loaded two-core machine (load average 9-14) and the leases were rightly lost
        Duration ttl = Duration.ofSeconds(2);
        Dlm a = dlm(options(OWNER_A).autoRefresh(true).build());
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            leases.add(acquired(a.newMutex(key("many-" + i), ttl).tryLock(), "owner-a's tryLock #" + i));
        }
        Lease victim = leases.get(137);
        AtomicInteger lost = new AtomicInteger();
        victim.onLost(lost::incrementAndGet);
        dlm(OWNER_A).newMutex(victim.key()).unlock(); // the same owner elsewhere ends that one hold

        eventually("the hold ended elsewhere is reported lost", ttl.multipliedBy(3)).until(() -> lost.get() == 1);
        throughout("every other lease stays valid through 3 ttls", ttl.multipliedBy(3))
                .until(() -> leases.stream().filter(l -> l != victim).allMatch(Lease::isValid));
        Mutex b = dlm(OWNER_B).newMutex(key("many-" + 249));
        assertThat(b.tryLock()).as("owner-b's tryLock of an auto-refreshed key after 3 ttls").isEmpty();
        assertThat(b.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(leases.get(249).fencingToken());
        assertThat(lost.get()).as("onLost runs once").isEqualTo(1);
        leases.forEach(Lease::close);
        assertThat(b.holder()).as("holder after close").isEmpty();
    }

    @Test
    @DisplayName("DlmOptions.autoRefresh(true) is the default of newMutex(key, ttl)")
    default void dlmDefaultAutoRefresh() {
        Mutex a = dlm(options(OWNER_A).autoRefresh(true).build()).newMutex(key(), AUTO_REFRESH_DEFAULT_TTL);
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        refreshesByItself(lease, b);
        lease.close();
        assertThat(acquired(b.tryLock(), "owner-b's tryLock after close").owner()).isEqualTo(OWNER_B);
    }

    @Test
    @DisplayName("MutexOptions without autoRefresh falls back to the Dlm's autoRefresh(true)")
    default void nullAutoRefreshFallsBackToTrue() {
        Mutex a = dlm(options(OWNER_A).autoRefresh(true).build())
                .newMutex(MutexOptions.builder(key()).ttl(AUTO_REFRESH_DEFAULT_TTL).autoRefresh(null).build());
        Mutex b = dlm(OWNER_B).newMutex(key());
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        refreshesByItself(lease, b);
        lease.close();
    }

    /**
     * Long enough that a loaded machine cannot starve the refresh past the expiry (a 500 ms ttl
     * did at load average 9-14), short enough that the first refresh (at a third) comes soon.
     */
    Duration AUTO_REFRESH_DEFAULT_TTL = Duration.ofSeconds(3);

    /** The lease refreshed itself (its expiry moved on) while valid, and {@code other} is kept out. */
    private void refreshesByItself(Lease lease, Mutex other) {
        Instant first = lease.expiresAt();
        eventually("the lease refreshed itself: its expiry moved on", AUTO_REFRESH_DEFAULT_TTL.multipliedBy(2))
                .until(() -> lease.expiresAt().isAfter(first));
        assertThat(lease.isValid()).as("the auto-refreshed lease is valid").isTrue();
        assertThat(other.tryLock()).as("another owner's tryLock of the auto-refreshed key").isEmpty();
    }

    @Test
    @DisplayName("MutexOptions.autoRefresh(false) overrides the Dlm's autoRefresh(true): the hold expires")
    default void falseOverridesDlmDefault() throws InterruptedException {
        Duration ttl = Duration.ofMillis(500);
        Mutex a = dlm(options(OWNER_A).autoRefresh(true).build())
                .newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(false).build());
        assertExpiresAfterTtl(a, ttl);
    }

    @Test
    @DisplayName("without autoRefresh anywhere (the default) the hold expires at its ttl")
    default void noAutoRefreshByDefault() throws InterruptedException {
        Duration ttl = Duration.ofMillis(500);
        Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).build());
        assertExpiresAfterTtl(a, ttl);
    }

    private void assertExpiresAfterTtl(Mutex a, Duration ttl) throws InterruptedException {
        Mutex b = dlm(OWNER_B).newMutex(key());
        long start = now();
        Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
        try (Lease taken = b.lock(Duration.ofSeconds(5))) {
            assertThat(since(start)).as("owner-b acquired after")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
            assertThat(lease.isValid()).isFalse();
        }
    }
}
