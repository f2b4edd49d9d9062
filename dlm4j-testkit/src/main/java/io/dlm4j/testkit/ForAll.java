package io.dlm4j.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A small property runner on plain JUnit: runs a check on many generated inputs and, when one
 * fails, shrinks it (if a shrinker is given) and reports the smallest failing input with the seed
 * that reproduces the run ({@code -Ddlm4j.seed=...}).
 *
 * <p>Why not a property-testing library: see NOTES.md ("jqwik"). This is deliberately minimal:
 * generation from a seeded {@link Random}, greedy shrinking, no statistics.
 */
public final class ForAll<T> {

    /** Set it to rerun a failed run with the same inputs. */
    public static final String SEED_PROPERTY = "dlm4j.seed";

    /** Bounds on shrinking, which on a server costs round trips per candidate. */
    private static final int MAX_SHRINK_STEPS = 200;
    private static final int MAX_SHRINK_CANDIDATES = 400;

    private final Function<Random, T> generator;
    private final Function<T, List<T>> shrinker;
    private final Function<T, String> describer;

    private ForAll(Function<Random, T> generator, Function<T, List<T>> shrinker, Function<T, String> describer) {
        this.generator = generator;
        this.shrinker = shrinker;
        this.describer = describer;
    }

    /** Inputs made by {@code generator}, not shrunk, described by {@code toString}. */
    public static <T> ForAll<T> inputs(Function<Random, T> generator) {
        return new ForAll<>(generator, failed -> List.of(), String::valueOf);
    }

    /** Keys, owners and other strings: shrunk by dropping code points, described with escapes. */
    public static ForAll<String> strings(Function<Random, String> generator) {
        return new ForAll<>(generator, ForAll::shorter, InputGenerators::printable);
    }

    /** The same inputs, described by {@code describer} in a failure. */
    public ForAll<T> describedBy(Function<T, String> describer) {
        return new ForAll<>(generator, shrinker, describer);
    }

    /** The same inputs, shrunk by {@code shrinker}: candidates smaller than a failing input. */
    public ForAll<T> shrunkBy(Function<T, List<T>> shrinker) {
        return new ForAll<>(generator, shrinker, describer);
    }

    /**
     * Runs {@code check} on {@code tries} generated inputs; the first failure is shrunk and
     * rethrown as an AssertionError naming the smallest failing input, the original and the seed.
     */
    public void check(int tries, Consumer<T> check) {
        long seed = seed();
        Random random = new Random(seed);
        for (int i = 1; i <= tries; i++) {
            T input = generator.apply(random);
            Throwable failure = failureOf(check, input);
            if (failure != null) {
                Shrunk<T> smallest = shrink(check, input, failure);
                AssertionError error = new AssertionError("property falsified on try " + i + " of " + tries
                        + " (seed " + seed + ", rerun with -D" + SEED_PROPERTY + "=" + seed + ")\n"
                        + "  smallest failing input (" + smallest.steps + " shrink steps): "
                        + describer.apply(smallest.input) + "\n"
                        + "  original failing input: " + describer.apply(input) + "\n"
                        + "  failure: " + smallest.failure, smallest.failure);
                throw error;
            }
        }
    }

    private static long seed() {
        String fixed = System.getProperty(SEED_PROPERTY);
        return fixed != null && !fixed.isBlank() ? Long.parseLong(fixed.trim()) : ThreadLocalRandom.current().nextLong();
    }

    private static <T> Throwable failureOf(Consumer<T> check, T input) {
        try {
            check.accept(input);
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }

    private record Shrunk<T>(T input, Throwable failure, int steps) {
    }

    private Shrunk<T> shrink(Consumer<T> check, T input, Throwable failure) {
        T smallest = input;
        Throwable smallestFailure = failure;
        int steps = 0;
        int candidates = 0;
        boolean smaller = true;
        while (smaller && steps < MAX_SHRINK_STEPS) {
            smaller = false;
            for (T candidate : shrinker.apply(smallest)) {
                if (++candidates > MAX_SHRINK_CANDIDATES) {
                    return new Shrunk<>(smallest, smallestFailure, steps);
                }
                Throwable candidateFailure = failureOf(check, candidate);
                if (candidateFailure != null) {
                    smallest = candidate;
                    smallestFailure = candidateFailure;
                    steps++;
                    smaller = true;
                    break;
                }
            }
        }
        return new Shrunk<>(smallest, smallestFailure, steps);
    }

    /** Halves, then each code point dropped: greedy, enough to bring a 512-character key down to its culprit. */
    static List<String> shorter(String text) {
        int[] codePoints = text.codePoints().toArray();
        List<String> candidates = new ArrayList<>();
        if (codePoints.length <= 1) {
            return candidates;
        }
        int half = codePoints.length / 2;
        candidates.add(new String(codePoints, 0, half));
        candidates.add(new String(codePoints, half, codePoints.length - half));
        for (int drop = 0; drop < codePoints.length && candidates.size() < 64; drop++) {
            StringBuilder without = new StringBuilder();
            for (int i = 0; i < codePoints.length; i++) {
                if (i != drop) {
                    without.appendCodePoint(codePoints[i]);
                }
            }
            candidates.add(without.toString());
        }
        return candidates;
    }
}
