package io.dlm4j.redis;

import java.util.Objects;

/**
 * The value stored under a lock key, the one place in Java (with {@code hold-value.lua} in the
 * scripts) that knows its format: {@code <token>:<owner>} for a hold its owner has touched since it
 * was made, and {@code <token>~<attempt>:<owner>} for a hold that the acquire marked
 * {@code attempt} created and nothing touched since (so that this attempt, and only it, can still
 * undo it).
 *
 * <p>The value is split at its first ':'. Everything before it is digits and the mark, which has no
 * ':' ({@link #checkAttempt}); everything after it is the owner, which may contain any character,
 * ':' and '~' included. So no owner name can make a value look marked, nor marked by another
 * attempt. Older versions split at the first ':' too: they still read the owner of a marked value
 * correctly (and so release and refresh it), though not its token.
 *
 * @param attempt the creating attempt's mark, or null once the owner touched the hold
 */
record HoldValue(long token, String attempt, String owner) {

    HoldValue {
        Objects.requireNonNull(owner, "owner");
        if (attempt != null) {
            checkAttempt(attempt);
        }
    }

    /**
     * An attempt id goes into the value before the first ':', so it must not contain one (nor the
     * mark's '~'); the engine's ids are hex digits and '-'.
     */
    static String checkAttempt(String attempt) {
        Objects.requireNonNull(attempt, "attempt must not be null");
        if (attempt.isEmpty() || attempt.indexOf(':') >= 0 || attempt.indexOf('~') >= 0) {
            throw new IllegalArgumentException("attempt must be non-empty and contain neither ':' nor '~' (it is"
                    + " stored before the owner in the lock's value), was '" + attempt + "'");
        }
        return attempt;
    }

    static HoldValue parse(String value) {
        int sep = value.indexOf(':');
        if (sep < 0) {
            throw new IllegalStateException("a lock value without ':' (not written by dlm4j?): '" + value + "'");
        }
        String head = value.substring(0, sep);
        String owner = value.substring(sep + 1);
        int mark = head.indexOf('~');
        String token = mark < 0 ? head : head.substring(0, mark);
        String attempt = mark < 0 ? null : head.substring(mark + 1);
        try {
            return new HoldValue(Long.parseLong(token), attempt, owner);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("a lock value whose token is not a number (not written by dlm4j?)", e);
        }
    }

    /** The same hold as its owner's relock leaves it: no attempt can undo it. */
    HoldValue unmarked() {
        return new HoldValue(token, null, owner);
    }

    String format() {
        return attempt == null ? token + ":" + owner : token + "~" + attempt + ":" + owner;
    }
}
