package io.dlm4j.engine;

/**
 * The engine's monotonic time source, in nanoseconds, as {@link System#nanoTime()}: lease validity,
 * expiry timers, refresh schedules and wait deadlines all read it. A seam for tests, which drive a
 * Dlm through a scripted store on a ticker they move by hand (as Caffeine's {@code Ticker}).
 */
@FunctionalInterface
interface Ticker {

    Ticker SYSTEM = System::nanoTime;

    long read();
}
