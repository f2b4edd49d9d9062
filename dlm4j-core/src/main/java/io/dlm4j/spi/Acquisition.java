package io.dlm4j.spi;

import java.util.Objects;

/**
 * The result of {@link LockStore#acquire}: which of the three things happened, and the hold that
 * is now in place (the caller's own, or the other owner's).
 */
public record Acquisition(Outcome outcome, StoredHold hold) {

    public enum Outcome {
        /** A new hold for the caller, with a new fencing token. */
        ACQUIRED,
        /** The caller's owner already held the lock; its expiry was extended, the token kept. */
        REFRESHED,
        /** Another owner holds the lock. */
        HELD
    }

    public Acquisition {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(hold, "hold");
    }

    public static Acquisition acquired(StoredHold hold) {
        return new Acquisition(Outcome.ACQUIRED, hold);
    }

    public static Acquisition refreshed(StoredHold hold) {
        return new Acquisition(Outcome.REFRESHED, hold);
    }

    public static Acquisition heldBy(StoredHold hold) {
        return new Acquisition(Outcome.HELD, hold);
    }

    public boolean isOurs() {
        return outcome != Outcome.HELD;
    }
}
