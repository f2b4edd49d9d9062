package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dlm4j.engine.EngineFixture.OWNER;
import static org.assertj.core.api.Assertions.assertThat;

/** Issue 12, item 3: one hold the store cannot decide does not fail the refresh of the others in its batch. */
class UndecidedRefreshTest {

    private static final Duration TTL = Duration.ofSeconds(3); // refreshed every second

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final AtomicInteger lost = new AtomicInteger();

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    private Lease refreshed(StoreBackedDlm dlm, String key) {
        Lease lease = dlm.newMutex(MutexOptions.builder(key).owner(OWNER).ttl(TTL).autoRefresh(true).build())
                .tryLock().orElseThrow();
        lease.onLost(lost::incrementAndGet);
        return lease;
    }

    private void refreshRound() throws Exception {
        fixture.scheduler.advance(Duration.ofSeconds(1));
        fixture.drainRefreshWorker();
    }

    @Test
    @DisplayName("an undecided hold is neither extended nor lost, and the others of its batch are extended")
    void undecidedHoldLeavesTheRestOfTheBatchExtended() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        Lease decided = refreshed(dlm, "decided");
        Lease undecided = refreshed(dlm, "undecided");
        Instant decidedBefore = decided.expiresAt();
        Instant undecidedBefore = undecided.expiresAt();
        store.undecided.add("undecided");

        refreshRound();
        assertThat(decided.expiresAt()).as("the decided hold of the batch is extended").isAfter(decidedBefore);
        assertThat(undecided.expiresAt()).as("the undecided hold keeps its expiry").isEqualTo(undecidedBefore);
        assertThat(undecided.isValid()).isTrue();
        assertThat(lost).hasValue(0);

        store.undecided.clear();
        refreshRound();
        assertThat(undecided.expiresAt()).as("decided again, it is extended").isAfter(undecidedBefore);
        assertThat(undecided.isValid()).isTrue();
        assertThat(lost).hasValue(0);
    }

    @Test
    @DisplayName("a hold that stays undecided is lost at its local expiry, the rest of its batch lives on")
    void aHoldThatStaysUndecidedIsLostAtItsExpiry() throws Exception {
        StoreBackedDlm dlm = fixture.dlm();
        Lease decided = refreshed(dlm, "decided");
        Lease undecided = refreshed(dlm, "undecided");
        store.undecided.add("undecided");

        refreshRound();
        refreshRound();
        fixture.scheduler.advance(Duration.ofMillis(999));
        assertThat(undecided.isValid()).as("1 ms before its local expiry").isTrue();
        fixture.scheduler.advance(Duration.ofMillis(1));
        fixture.drainRefreshWorker();
        assertThat(undecided.isValid()).as("at its local expiry").isFalse();
        assertThat(lost).as("onLost of the undecided lease only").hasValue(1);
        assertThat(decided.isValid()).as("the decided lease of the same batches").isTrue();
    }
}
