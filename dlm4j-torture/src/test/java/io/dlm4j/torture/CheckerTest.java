package io.dlm4j.torture;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The checker on hand-written histories and resource logs, each made to show one thing. */
class CheckerTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final Checker checker = new Checker(10_000 * MS);

    private static HistoryEvent ev(String p, String type, String f, String key, Long token, long ms) {
        return new HistoryEvent(p, type, f, key, token, ms * MS);
    }

    /** A worker's whole acquire - release cycle, from invoke to release. */
    private static List<HistoryEvent> cycle(String p, String key, long token, long invokeMs, long okMs, long releaseMs) {
        return List.of(ev(p, "invoke", "acquire", key, null, invokeMs), ev(p, "ok", "acquire", key, token, okMs),
                ev(p, "invoke", "release", key, token, releaseMs), ev(p, "ok", "release", key, token, releaseMs + 1));
    }

    private static ResourceOp read(String p, long token, long ms, boolean fencedAccepted, long fenced, long unfenced) {
        return new ResourceOp("READ", "k", p, token, ms * MS, fencedAccepted, fenced, null, unfenced, null);
    }

    private static ResourceOp write(String p, long token, long ms, boolean fencedAccepted, long fencedBefore,
                                    Long fencedWritten, long unfencedBefore, long unfencedWritten) {
        return new ResourceOp("WRITE", "k", p, token, ms * MS, fencedAccepted, fencedBefore, fencedWritten,
                unfencedBefore, unfencedWritten);
    }

    @Test
    void aCleanSequentialRunFindsNothing() {
        List<HistoryEvent> h = new ArrayList<>();
        h.addAll(cycle("w1", "k", 1, 0, 1, 10));
        h.addAll(cycle("w2", "k", 2, 5, 12, 20));
        List<ResourceOp> log = List.of(
                read("w1", 1, 2, true, 0, 0), write("w1", 1, 9, true, 0, 1L, 0, 1),
                read("w2", 2, 13, true, 1, 1), write("w2", 2, 19, true, 1, 2L, 1, 2));

        Findings f = checker.check(h, log, Set.of());

        assertThat(f).isEqualTo(new Findings(2, 0, 0, 0, 0, 0, 0, 8, List.of()));
    }

    @Test
    void aPausedHolderOverlapsAndLosesAnUnfencedUpdateButTheFenceTurnsItAway() {
        List<HistoryEvent> h = new ArrayList<>();
        h.addAll(cycle("w1", "k", 1, 0, 1, 100));
        h.addAll(cycle("w2", "k", 2, 5, 30, 40));
        List<ResourceOp> log = List.of(
                read("w1", 1, 2, true, 0, 0),
                read("w2", 2, 31, true, 0, 0),
                write("w2", 2, 39, true, 0, 1L, 0, 1),
                write("w1", 1, 99, false, 1, 1L, 1, 1)); // w1 wakes and writes 0 + 1 over w2's 1

        Findings f = checker.check(h, log, Set.of());

        assertThat(f.overlaps()).isEqualTo(1);
        assertThat(f.lostUpdatesUnfenced()).isEqualTo(1);
        assertThat(f.lostUpdatesFenced()).isZero();
        assertThat(f.staleRejected()).isEqualTo(1);
        assertThat(f.examples()).anyMatch(e -> e.startsWith("overlap on k: w1 (token 1) and w2 (token 2)"));
        assertThat(f.longestHoldMillis()).isEqualTo(98); // w1: granted at 1 ms, wrote at 99 ms
    }

    @Test
    void anAcceptedFencedWriteOnAStaleValueIsALostUpdate() {
        List<ResourceOp> log = List.of(
                read("w1", 1, 2, true, 0, 0),
                write("w1", 1, 3, true, 0, 1L, 0, 1),
                write("w2", 2, 4, true, 1, 1L, 1, 1));

        Findings f = checker.check(List.of(), log, Set.of());

        assertThat(f.lostUpdatesFenced()).isEqualTo(1);
        assertThat(f.lostUpdatesUnfenced()).isEqualTo(1);
    }

    @Test
    void aLowerTokenAfterACompletedAcquisitionBreaksTheOrderButAConcurrentOneDoesNot() {
        List<HistoryEvent> h = new ArrayList<>();
        h.addAll(cycle("w1", "k", 5, 0, 10, 20));
        h.addAll(cycle("w2", "k", 3, 11, 25, 30)); // invoked after w1's ok with 5: must be above 5
        h.addAll(cycle("w3", "k", 4, 9, 40, 50));  // invoked before w1's ok: no order between them
        h.addAll(cycle("w4", "other", 1, 60, 61, 62)); // another key has its own order

        Findings f = checker.check(h, List.of(), Set.of());

        assertThat(f.tokenOrderViolations()).isEqualTo(1);
        assertThat(f.examples()).containsExactly("token order: w2 got 3 on k after w1 had completed with 5");
    }

    @Test
    void anEqualTokenForANewAcquisitionBreaksTheOrder() {
        List<HistoryEvent> h = new ArrayList<>();
        h.addAll(cycle("w1", "k", 5, 0, 10, 20));
        h.addAll(cycle("w2", "k", 5, 30, 31, 40));

        assertThat(checker.check(h, List.of(), Set.of()).tokenOrderViolations()).isEqualTo(1);
    }

    @Test
    void aWorkerWhoseReleaseFailedMayRelockWithItsTokenButNotAfterAConfirmedRelease() {
        List<HistoryEvent> relock = List.of(
                ev("w1", "invoke", "acquire", "k", null, 0), ev("w1", "ok", "acquire", "k", 7L, 1),
                ev("w1", "invoke", "release", "k", 7L, 5), ev("w1", "info", "release", "k", 7L, 9),
                ev("w1", "invoke", "acquire", "k", null, 10), ev("w1", "ok", "acquire", "k", 7L, 11));
        assertThat(checker.check(relock, List.of(), Set.of()).tokenOrderViolations()).isZero();

        List<HistoryEvent> released = new ArrayList<>(cycle("w1", "k", 7, 0, 1, 5));
        released.addAll(cycle("w1", "k", 7, 10, 11, 15));
        assertThat(checker.check(released, List.of(), Set.of()).tokenOrderViolations()).isEqualTo(1);
    }

    @Test
    void anAcquisitionThatNeverCompletesIsStuckUnlessItsWorkerWasKilled() {
        List<HistoryEvent> h = List.of(
                ev("w1", "invoke", "acquire", "k", null, 0),
                ev("w2", "invoke", "acquire", "k", null, 0));

        Findings f = checker.check(h, List.of(), Set.of("w2"));

        assertThat(f.stuck()).isEqualTo(1);
        assertThat(f.examples()).singleElement().asString().startsWith("stuck: w1 acquire k");
    }

    @Test
    void anAcquisitionSlowerThanTheBoundIsStuckEvenIfItFailedInTheEnd() {
        List<HistoryEvent> h = List.of(
                ev("w1", "invoke", "acquire", "k", null, 0),
                ev("w1", "fail", "acquire", "k", null, 10_001),
                ev("w2", "invoke", "acquire", "k", null, 0),
                ev("w2", "info", "acquire", "k", null, 9_999));

        Findings f = checker.check(h, List.of(), Set.of());

        assertThat(f.stuck()).isEqualTo(1);
        assertThat(f.acquisitions()).isZero();
    }

    @Test
    void sectionsOfOneProcessDoNotOverlapEachOtherAndUnfinishedSectionsAreLeftOut() {
        List<ResourceOp> log = List.of(
                read("w1", 1, 0, true, 0, 0),
                read("w2", 2, 1, true, 0, 0), // w2 was killed inside its section: it wrote nothing
                write("w1", 1, 5, false, 0, 1L, 0, 1),
                read("w1", 3, 6, true, 0, 1),
                write("w1", 3, 7, true, 0, 1L, 1, 2));

        Findings f = checker.check(List.of(), log, Set.of("w2"));

        assertThat(f.overlaps()).isZero();
        assertThat(f.lostUpdatesUnfenced()).isZero();
    }
}
