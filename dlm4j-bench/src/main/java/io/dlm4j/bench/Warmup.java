package io.dlm4j.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/** Decides when a fork has warmed up: JIT compilation went quiet, or the bound was reached. */
final class Warmup {

    private static final Duration SAMPLE = Duration.ofMillis(250);
    /** Compilation time (ms) that may still be spent over the last second for the JIT to count as quiet. */
    private static final long QUIET_MS = 20;

    private Warmup() {
    }

    /**
     * Runs {@code load} (which must return at once and keep running until stopped) and returns the
     * warm-up that was needed, at least {@code min}, at most {@code max}.
     */
    static Duration untilJitQuiet(Duration min, Duration max) throws InterruptedException {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime();
        int window = (int) (1000 / SAMPLE.toMillis());
        long[] history = new long[window + 1];
        int n = 0;
        while (true) {
            Thread.sleep(SAMPLE.toMillis()); // sampling the JIT's clock, not synchronisation
            long compiled = jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
            history[n % history.length] = compiled;
            n++;
            Duration spent = Duration.ofNanos(System.nanoTime() - start);
            boolean quiet = n > window && compiled - history[(n - 1 - window) % history.length] <= QUIET_MS;
            if ((quiet && spent.compareTo(min) >= 0) || spent.compareTo(max) >= 0) {
                return spent;
            }
        }
    }
}
