package io.dlm4j.testkit;

import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance tests of {@code Mutex.holder()} (docs/CONTRACT.md): what every client sees of a
 * hold, and when it turns empty. Run by {@link ConformanceSuite} as its nested {@code Holder}
 * tests.
 */
public interface HolderContract extends ConformanceFixture {

    @Test
    @DisplayName("is empty on a free key")
    default void emptyWhenFree() {
        assertThat(dlm(OWNER_A).newMutex(key()).holder()).isEmpty();
    }

    @Test
    @DisplayName("shows key, owner, the lease's token and an expiry close to the lease's, to every client")
    default void showsTheHold() throws InterruptedException {
        Mutex a = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
        Mutex b = dlm(OWNER_B).newMutex(key());
        try (Lease lease = a.lock()) {
            for (Mutex reader : List.of(a, b)) {
                LockInfo info = reader.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
                assertThat(info.key()).isEqualTo(key());
                assertThat(info.owner()).isEqualTo(OWNER_A);
                assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
                assertThat(info.expiresAt()).as("holder's expiresAt, read by %s", reader.owner())
                        .isBetween(lease.expiresAt().minus(Duration.ofMillis(200)).minus(timeLeftResolution()),
                                lease.expiresAt().plus(LATE_SLACK));
            }
        }
    }

    @Test
    @DisplayName("is empty after unlock")
    default void emptyAfterUnlock() {
        Mutex a = dlm(OWNER_A).newMutex(key());
        acquired(a.tryLock(), "tryLock");
        assertThat(a.holder()).isPresent();
        a.unlock();
        assertThat(a.holder()).isEmpty();
        assertThat(dlm(OWNER_B).newMutex(key()).holder()).isEmpty();
    }

    @Test
    @DisplayName("is empty after expiry, not before")
    default void emptyAfterExpiry() {
        Duration ttl = Duration.ofMillis(300);
        Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
        long start = now();
        Lease lease = acquired(a.tryLock(), "tryLock");
        eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
        assertThat(since(start)).as("the hold ended after").isGreaterThanOrEqualTo(ttl.minus(EARLY_SLACK));
        lease.close();
    }
}
