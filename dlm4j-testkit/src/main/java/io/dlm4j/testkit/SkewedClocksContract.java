package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance tests of clients whose clocks are an hour off (docs/CONTRACT.md): expiry is the
 * backend's judgement, and the expiries a client reads are on its own clock. Run by
 * {@link ConformanceSuite} as its nested {@code SkewedClocks} tests.
 */
public interface SkewedClocksContract extends ConformanceFixture {

    /** The clock of a client one hour ahead of the others. */
    Clock FAST = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));
    /** The clock of a client one hour behind the others. */
    Clock SLOW = Clock.offset(Clock.systemUTC(), Duration.ofHours(1).negated());

    @Test
    @DisplayName("a client one hour ahead does not steal a live lock, and waits for its real expiry")
    default void fastClientDoesNotSteal() throws InterruptedException {
        Duration ttl = Duration.ofMillis(800);
        Mutex normal = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex ahead = dlm(options(OWNER_B).clock(FAST).build()).newMutex(key(), ttl);

        long start = now();
        Lease held = acquired(normal.tryLock(), "the normal client's tryLock");
        assertThat(ahead.tryLock()).as("the +1 h client's tryLock while held").isEmpty();
        assertThatThrownBy(() -> ahead.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);

        Lease taken = ahead.lock(Duration.ofSeconds(5));
        assertThat(since(start)).as("the +1 h client acquired this long after the normal one")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        taken.close();
    }

    @Test
    @DisplayName("a client one hour behind does not wait an hour for an expired lock")
    default void slowClientDoesNotWaitAnHour() throws InterruptedException {
        Duration ttl = Duration.ofMillis(700);
        Mutex normal = dlm(OWNER_A).newMutex(key(), ttl);
        Mutex behind = dlm(options(OWNER_C).clock(SLOW).build()).newMutex(key(), ttl);

        long start = now();
        Lease held = acquired(normal.tryLock(), "the normal client's tryLock");
        assertThat(behind.tryLock()).as("the -1 h client's tryLock while held").isEmpty();

        Lease taken = behind.lock(Duration.ofSeconds(5));
        assertThat(since(start)).as("the -1 h client acquired this long after the normal one")
                .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
        assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
        taken.close();
    }

    @Test
    @DisplayName("leases' expiresAt and holder()'s expiresAt are on the reading client's clock")
    default void estimatesAreOnOwnClock() {
        record Client(String owner, Clock clock, Dlm dlm) { }
        Duration ttl = Duration.ofSeconds(10);
        List<Client> clients = List.of(
                new Client(OWNER_A, clock(), dlm(OWNER_A)),
                new Client(OWNER_B, FAST, dlm(options(OWNER_B).clock(FAST).build())),
                new Client(OWNER_C, SLOW, dlm(options(OWNER_C).clock(SLOW).build())));

        for (Client holder : clients) {
            Mutex mutex = holder.dlm().newMutex(key(holder.owner()), ttl);
            Instant before = holder.clock().instant();
            Lease lease = acquired(mutex.tryLock(), holder.owner() + "'s tryLock");
            Instant after = holder.clock().instant();
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
            assertThat(lease.isValid()).as("%s's lease is valid on its own clock", holder.owner()).isTrue();

            for (Client reader : clients) {
                Instant readStart = reader.clock().instant();
                LockInfo info = reader.dlm().newMutex(mutex.key()).holder()
                        .orElseThrow(() -> new AssertionError("holder() is empty"));
                Instant readEnd = reader.clock().instant();
                assertThat(info.owner()).isEqualTo(holder.owner());
                assertThat(info.expiresAt())
                        .as("%s's hold read by %s, on the reader's clock", holder.owner(), reader.owner())
                        .isBetween(readStart.plus(ttl).minus(Duration.ofSeconds(3)), readEnd.plus(ttl).plus(LATE_SLACK));
            }
            lease.close();
        }
    }

    @Test
    @DisplayName("auto-refreshing clients one hour ahead and behind keep their locks")
    default void skewedClientsAutoRefresh() {
        Duration ttl = Duration.ofMillis(600);
        Dlm normalDlm = dlm(OWNER_A);
        Mutex ahead = dlm(options(OWNER_B).clock(FAST).autoRefresh(true).build()).newMutex(key("ahead"), ttl);
        Mutex behind = dlm(options(OWNER_C).clock(SLOW).autoRefresh(true).build()).newMutex(key("behind"), ttl);
        Mutex normalOnAhead = normalDlm.newMutex(key("ahead"));
        Mutex normalOnBehind = normalDlm.newMutex(key("behind"));

        Lease aheadLease = acquired(ahead.tryLock(), "the +1 h client's tryLock");
        Lease behindLease = acquired(behind.tryLock(), "the -1 h client's tryLock");
        throughout("the skewed clients keep their locks and the normal one is kept out", Duration.ofMillis(2000)).until(() ->
                normalOnAhead.tryLock().isEmpty() && normalOnBehind.tryLock().isEmpty()
                        && aheadLease.isValid() && behindLease.isValid());
        aheadLease.close();
        behindLease.close();
    }
}
