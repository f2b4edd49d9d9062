package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.Acquisition.Outcome;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.RefreshResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Redlock's decisions over three scripted masters ({@link ScriptedMaster}): each master's answer,
 * failure or silence is fixed by the test, and the store's clock is a counter that moves only when
 * the test moves it. The interleavings of issue 12 (Redlock 1-3, late replies) made deterministic.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RedlockDecisionTest {

    private static final Duration TTL = Duration.ofSeconds(1); // per-node timeout 100 ms
    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);
    private static final String ATTEMPT = "attempt-1";

    private final ScriptedMaster m1 = new ScriptedMaster("m1:6379");
    private final ScriptedMaster m2 = new ScriptedMaster("m2:6379");
    private final ScriptedMaster m3 = new ScriptedMaster("m3:6379");
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final RedlockLockStore store = new RedlockLockStore(List.of(m1, m2, m3),
            new RedisKeys(RedisKeys.DEFAULT_PREFIX), OPERATION_TIMEOUT, clock::get);

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aRelockReportsTheTokenOfTheQuorumNotTheHigherOneALateAcquireLeftOnOneMaster() {
        m1.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7);
        m2.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7);
        m3.acquireAnswers(Outcome.REFRESHED, 9, 1000, "O", 9);

        Acquisition relock = store.acquire("k", "O", TTL, ATTEMPT);

        assertThat(relock.outcome()).isEqualTo(Outcome.REFRESHED);
        assertThat(relock.hold().fencingToken()).isEqualTo(7);
        assertThat(m3.calls).as("the outvoted master is given the quorum's token").contains("recordToken O 7");
        assertThat(m1.calls).noneMatch(c -> c.startsWith("recordToken"));
    }

    @Test
    void aMasterWhoseCopyLapsedNeitherChangesTheTokenNorGetsItOverwrittenByItsCounter() {
        m1.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7);
        m2.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7);
        m3.acquireAnswers(Outcome.ACQUIRED, 8, 1000, "O", 8); // lapsed there: a new copy, a new counter

        Acquisition relock = store.acquire("k", "O", TTL, ATTEMPT);

        assertThat(relock.outcome()).isEqualTo(Outcome.REFRESHED);
        assertThat(relock.hold().fencingToken()).isEqualTo(7);
        assertThat(List.of(m1, m2, m3)).flatMap(m -> m.calls).doesNotContain("recordToken O 8");
    }

    @Test
    void aRelockThatOnlyOneMasterAnsweredUndoesOnlyItsOwnCopiesAndNeverReleases() {
        m1.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7);
        m2.hung();
        m3.hung();

        Acquisition relock = store.acquire("k", "O", TTL, ATTEMPT);

        assertThat(relock.isOurs()).isFalse();
        for (ScriptedMaster master : List.of(m1, m2, m3)) {
            assertThat(master.calls).as(master.address()).containsExactly("acquire O " + ATTEMPT, "undo O " + ATTEMPT);
        }
    }

    @Test
    void aQuorumThatGrantedTooLateIsUndoneNotReleased() {
        m1.acquireAnswers(Outcome.ACQUIRED, 5, 1000, "O", 5);
        m2.acquireAnswers(Outcome.ACQUIRED, 6, 1000, "O", 6);
        m3.acquireAnswers(Outcome.REFRESHED, 4, 1000, "O", 4);
        m1.recordToken = m2.recordToken = () -> {
            clock.addAndGet(TTL.toNanos()); // the recording round took the whole ttl
            return CompletableFuture.completedFuture(true);
        };

        Acquisition late = store.acquire("k", "O", TTL, ATTEMPT);

        assertThat(late.isOurs()).isFalse();
        assertThat(List.of(m1, m2, m3)).flatMap(m -> m.calls).contains("undo O " + ATTEMPT)
                .noneMatch(c -> c.startsWith("release"));
    }

    @Test
    void withoutATokenOfAQuorumTheRoundMakesANewHoldAboveEveryCounterItSaw() {
        m1.acquireAnswers(Outcome.REFRESHED, 7, 1000, "O", 7); // the owner's old copy: its counter did not move
        m2.acquireAnswers(Outcome.ACQUIRED, 7, 1000, "O", 7);
        m3.hung();

        Acquisition acquired = store.acquire("k", "O", TTL, ATTEMPT);

        assertThat(acquired.outcome()).isEqualTo(Outcome.ACQUIRED);
        assertThat(acquired.hold().fencingToken()).isEqualTo(8);
        assertThat(m1.calls).contains("recordToken O 8");
        assertThat(m2.calls).contains("recordToken O 8");
    }

    @Test
    void lateAnswersAreNotAcquiredUntilTheMastersHaveBeenSilentForTheOperationTimeout() {
        m1.acquireAnswers(Outcome.ACQUIRED, 1, 1000, "O", 1);
        m2.hung();
        m3.hung();

        assertThat(store.acquire("k", "O", TTL, "attempt-1").isOurs()).isFalse();
        clock.addAndGet(OPERATION_TIMEOUT.minusMillis(1).toNanos());
        assertThat(store.acquire("k", "O", TTL, "attempt-2").isOurs()).as("silent for just under the timeout").isFalse();
        clock.addAndGet(Duration.ofMillis(1).toNanos());
        assertThatThrownBy(() -> store.acquire("k", "O", TTL, "attempt-3"))
                .hasMessageContaining("only 1 of 3 Redis masters answered")
                .hasMessageContaining("m2:6379: no answer within 100 ms");
    }

    @Test
    void anAnswerInTimeEndsTheSilence() {
        m1.acquireAnswers(Outcome.ACQUIRED, 1, 1000, "O", 1);
        m2.hung();
        m3.hung();
        assertThat(store.acquire("k", "O", TTL, "attempt-1").isOurs()).isFalse();
        clock.addAndGet(OPERATION_TIMEOUT.toNanos());
        m2.acquireAnswers(Outcome.HELD, 3, 500, "P", 3);
        m3.acquireAnswers(Outcome.HELD, 3, 500, "P", 3);
        assertThat(store.acquire("k", "O", TTL, "attempt-2").hold().owner()).isEqualTo("P");
        m2.hung();
        m3.hung();

        assertThat(store.acquire("k", "O", TTL, "attempt-3").isOurs()).as("a new silence begins").isFalse();
    }

    @Test
    void unreachableMastersFailAtOnce() {
        m1.acquireAnswers(Outcome.ACQUIRED, 1, 1000, "O", 1);
        m2.unreachable();
        m3.unreachable();

        assertThatThrownBy(() -> store.acquire("k", "O", TTL, ATTEMPT))
                .hasMessageContaining("only 1 of 3 Redis masters answered")
                .hasMessageContaining("Connection refused");
    }

    @Test
    void oneUndecidedHoldDoesNotFailTheOthersOfItsRefreshBatch() {
        // holds: 0 extended by all that answer; 1 extended by m1 only, refused by m2; m3 hung
        m1.refresh = () -> CompletableFuture.completedFuture(List.of(1000L, 1000L));
        m2.refresh = () -> CompletableFuture.completedFuture(List.of(1000L, 0L));
        m3.hung();
        List<HoldToRefresh> holds = List.of(new HoldToRefresh("a", "O", TTL), new HoldToRefresh("b", "O", TTL));

        List<RefreshResult> results = store.refreshEach(holds);

        assertThat(results.get(0).outcome()).isEqualTo(RefreshResult.Outcome.EXTENDED);
        assertThat(results.get(0).remaining()).isPositive().isLessThanOrEqualTo(TTL);
        assertThat(results.get(1).outcome()).isEqualTo(RefreshResult.Outcome.UNDECIDED);
        assertThat(results.get(1).failure()).hasMessageContaining("1 of 3 Redis masters extended the hold and 1 refused it");
        assertThatThrownBy(() -> store.refreshAll(holds)).as("the older form cannot say undecided per hold")
                .hasMessageContaining("1 refused it");
    }

    @Test
    void aRefreshReportsWhatAQuorumHasLeftNotTheRequestedTtl() {
        m1.refresh = () -> CompletableFuture.completedFuture(List.of(30_000L));
        m2.refresh = () -> CompletableFuture.completedFuture(List.of(29_000L));
        m3.refresh = () -> CompletableFuture.completedFuture(List.of(1000L)); // a copy that had less

        RefreshResult result = store.refreshEach(List.of(new HoldToRefresh("a", "O", TTL))).get(0);

        assertThat(result.outcome()).isEqualTo(RefreshResult.Outcome.EXTENDED);
        // 29 s (two of three have at least that) less the drift, 1% + 2 ms
        assertThat(result.remaining()).isEqualTo(Duration.ofMillis(29_000 - 290 - 2));
    }
}
