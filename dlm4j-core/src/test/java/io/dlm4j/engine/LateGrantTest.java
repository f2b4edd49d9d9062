package io.dlm4j.engine;

import io.dlm4j.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.mutex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13 (found by the torture suite's late-reply faults): a lease's time counts from before its
 * request, so a grant answered after its ttl gives a lease invalid from the start, and one
 * answered just in time a lease valid until then. Neither is retried: for a ttl shorter than the
 * round trip a retry could never end (any positive ttl locks a free key, InputPropertySuite).
 */
class LateGrantTest {

    private static final Duration TTL = Duration.ofSeconds(3);

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    /** A step whose request reaches the store after {@code toStore} and whose reply comes {@code back} later. */
    private ScriptedStore.Step landsAfterAndAnswersAfter(Duration toStore, Duration back) {
        return apply -> {
            fixture.ticker.advance(toStore);
            Object answer = apply.get();
            fixture.ticker.advance(back);
            return answer;
        };
    }

    @Test
    @DisplayName("a grant answered after its ttl is a lease invalid from the start, never one that claims time it has not")
    void lateGrantIsInvalidFromTheStart() {
        StoreBackedDlm dlm = fixture.dlm();
        // 3.5 s from the request to its reply: over for the caller, while the store has 1.5 s left
        store.next("acquire", landsAfterAndAnswersAfter(Duration.ofSeconds(2), Duration.ofMillis(1500)));

        Lease lease = mutex(dlm, OWNER, TTL, false).tryLock().orElseThrow();

        assertThat(lease.isValid()).as("a lease whose time was over when it arrived").isFalse();
        assertThat(lease.expiresAt()).as("its expiry, counted from before the request")
                .isBefore(fixture.clock.instant());
        assertThat(store.peek(KEY)).as("the hold is the caller's to release").isPresent();
        lease.close();
        assertThat(store.peek(KEY)).isEmpty();
    }

    @Test
    @DisplayName("a grant answered just inside its ttl is a lease, valid until then")
    void grantJustInTimeIsALease() {
        StoreBackedDlm dlm = fixture.dlm();
        store.next("acquire", landsAfterAndAnswersAfter(Duration.ZERO, TTL.minusMillis(1)));

        Lease lease = mutex(dlm, OWNER, TTL, false).tryLock().orElseThrow();

        assertThat(lease.isValid()).isTrue();
        fixture.ticker.advance(Duration.ofMillis(1));
        assertThat(lease.isValid()).as("1 ms later: its time, counted from before the request, is over").isFalse();
    }
}
