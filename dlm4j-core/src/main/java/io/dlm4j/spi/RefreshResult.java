package io.dlm4j.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * What a store can say about one hold of a {@link LockStore#refreshEach} batch: extended (and for
 * how long it is now sure to last), not held by the owner any more, or undecided, when the store
 * could not tell (Redlock with neither a majority extending nor a majority refusing). An undecided
 * hold is neither extended nor lost: the engine tries it again, and it is lost only at its local
 * expiry.
 */
public record RefreshResult(Outcome outcome, Duration remaining, RuntimeException failure) {

    public enum Outcome {
        /** The hold was extended; {@link #remaining()} is how long it is now sure to last. */
        EXTENDED,
        /** The owner does not hold the lock (any more): the hold is lost. */
        NOT_HELD,
        /** The store could not tell; {@link #failure()} says why. */
        UNDECIDED
    }

    public RefreshResult {
        Objects.requireNonNull(outcome, "outcome");
        if (outcome == Outcome.EXTENDED) {
            Objects.requireNonNull(remaining, "remaining");
        }
        if (outcome == Outcome.UNDECIDED) {
            Objects.requireNonNull(failure, "failure");
        }
    }

    public static RefreshResult extended(Duration remaining) {
        return new RefreshResult(Outcome.EXTENDED, remaining, null);
    }

    public static RefreshResult notHeld() {
        return new RefreshResult(Outcome.NOT_HELD, null, null);
    }

    public static RefreshResult undecided(RuntimeException why) {
        return new RefreshResult(Outcome.UNDECIDED, null, why);
    }
}
