package io.dlm4j.engine;

import io.dlm4j.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static io.dlm4j.engine.EngineFixture.KEY;
import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.mutex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13 (found by the torture suite's late-reply faults): a grant whose reply arrives after the
 * hold's time is over is no lease. The caller gets none, the hold that attempt made is undone, and
 * lock() tries again.
 */
class LateGrantTest {

    private static final Duration TTL = Duration.ofSeconds(3);

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    /** A step that applies, then answers only after {@code late} has passed on the test's clock. */
    private ScriptedStore.Step answeredAfter(Duration late) {
        return landsAfterAndAnswersAfter(Duration.ZERO, late);
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
    @DisplayName("a tryLock answered after the ttl returns no lease and undoes the hold it made")
    void lateGrantIsNoLease() {
        StoreBackedDlm dlm = fixture.dlm();
        // 3.5 s from the request to its reply: over for the caller, while the store has 1.5 s left
        store.next("acquire", landsAfterAndAnswersAfter(Duration.ofSeconds(2), Duration.ofMillis(1500)));

        Optional<Lease> lease = mutex(dlm, OWNER, TTL, false).tryLock();

        assertThat(lease).as("a lease whose time was over when it arrived").isEmpty();
        assertThat(store.peek(KEY)).as("the hold the late grant made, which the store still had").isEmpty();
        assertThat(dlm.holders().holdsLiveLease(KEY, OWNER)).isFalse();
    }

    @Test
    @DisplayName("a lock(maxWait) whose first grant arrives late tries again and returns a valid lease")
    void lockTriesAgainAfterALateGrant() throws InterruptedException {
        StoreBackedDlm dlm = fixture.dlm();
        store.next("acquire", answeredAfter(TTL.plusMillis(1)));

        Lease lease = mutex(dlm, OWNER, TTL, false).lock(Duration.ofSeconds(30));

        assertThat(lease.isValid()).isTrue();
        assertThat(store.peek(KEY)).hasValueSatisfying(hold -> assertThat(hold.fencingToken()).isEqualTo(lease.fencingToken()));
    }

    @Test
    @DisplayName("a grant answered just inside its ttl is a lease, valid until then")
    void grantJustInTimeIsALease() {
        StoreBackedDlm dlm = fixture.dlm();
        store.next("acquire", answeredAfter(TTL.minusMillis(1)));

        Lease lease = mutex(dlm, OWNER, TTL, false).tryLock().orElseThrow();

        assertThat(lease.isValid()).isTrue();
        fixture.ticker.advance(Duration.ofMillis(1));
        assertThat(lease.isValid()).as("1 ms later: its time, counted from before the request, is over").isFalse();
    }
}
