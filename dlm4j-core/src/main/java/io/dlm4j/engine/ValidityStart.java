package io.dlm4j.engine;

import java.time.Clock;
import java.time.Instant;

/**
 * When a store call that grants validity began, on both clocks: a hold lasts from before the call
 * was sent, never from when its answer arrived.
 */
record ValidityStart(Instant instant, long nanos) {

    static ValidityStart now(Clock clock) {
        return new ValidityStart(clock.instant(), System.nanoTime());
    }
}
