package io.dlm4j.engine;

import java.time.Instant;

/**
 * When a store call that grants validity began, on both clocks (the Dlm's clock and its ticker): a
 * hold lasts from before the call was sent, never from when its answer arrived.
 */
record ValidityStart(Instant instant, long nanos) {
}
