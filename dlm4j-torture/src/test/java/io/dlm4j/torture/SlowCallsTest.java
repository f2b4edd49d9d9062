package io.dlm4j.torture;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-scenario note of calls that outlasted their bound (lock(3000 ms) + 2000 ms, and 2000 ms for a release). */
class SlowCallsTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final Settings settings = Settings.full();

    private static HistoryEvent ev(String p, String type, String f, long token, long ms) {
        return new HistoryEvent(p, type, f, "k", token == 0 ? null : token, ms * MS);
    }

    @Test
    void callsWithinTheirBoundsPlusSlackAreNotNamed() {
        List<HistoryEvent> h = List.of(
                ev("w1", "invoke", "acquire", 0, 0), ev("w1", "fail", "acquire", 0, 5_400),
                ev("w1", "invoke", "acquire", 0, 6_000), ev("w1", "ok", "acquire", 1, 6_010),
                ev("w1", "invoke", "release", 1, 6_100), ev("w1", "info", "release", 1, 8_400));

        assertThat(ScenarioRunner.slowCalls(h, settings)).isEmpty();
    }

    @Test
    void theSlowestAcquisitionAndReleasePastTheirBoundsAreNamed() {
        List<HistoryEvent> h = List.of(
                ev("w1", "invoke", "acquire", 0, 0), ev("w1", "info", "acquire", 0, 5_600),
                ev("w2", "invoke", "acquire", 0, 0), ev("w2", "ok", "acquire", 3, 6_000),
                ev("w2", "invoke", "release", 3, 6_100), ev("w2", "info", "release", 3, 10_100),
                // a killed worker's open call has no end: not counted
                ev("w3", "invoke", "release", 2, 0));

        assertThat(ScenarioRunner.slowCalls(h, settings)).containsExactly(
                "slowest acquisition 6000 ms (w2 on k, ended ok), above lock(3000 ms) + the operation timeout (5000 ms)"
                        + " by more than 500 ms",
                "slowest release 4000 ms (w2 on k, ended info), above the operation timeout (2000 ms) by more than 500 ms");
    }
}
