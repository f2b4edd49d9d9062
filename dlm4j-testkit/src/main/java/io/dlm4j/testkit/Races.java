package io.dlm4j.testkit;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Helpers of the race tests among the safety rules: an interrupt or a close can only land during a
 * store call by chance, so those tests repeat rounds with varied delays and report the last rounds.
 */
final class Races {

    private Races() {
    }

    /**
     * A deliberate delay of round {@code round} of a race test: none, a few microseconds, up to
     * 0.2, 1 or 3 ms, so that an interrupt or a close lands at varied moments of a call.
     */
    static long variedDelayNanos(int round) {
        long[] bounds = {1, 20_000, 200_000, 1_000_000, 3_000_000};
        return ThreadLocalRandom.current().nextLong(bounds[round % bounds.length]);
    }

    /** Spins for {@code nanos}: a varied delay finer than a sleep, not a synchronisation. */
    static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /** Waits for the latch without touching the interrupt flag. */
    static void spinUntil(CountDownLatch latch) {
        while (latch.getCount() > 0) {
            Thread.onSpinWait();
        }
    }

    /**
     * The outcomes of the last rounds of a race test, for its failure messages: a store operation
     * that a round abandoned (an interrupted wait for a reply) may still land during a later round.
     */
    static String lastRounds(List<String> rounds) {
        return "; the last rounds: " + String.join("; ", rounds.subList(Math.max(0, rounds.size() - 4), rounds.size()));
    }
}
