package io.dlm4j;

import java.time.Duration;
import java.util.Objects;

/** The argument rules of the contract (see package-info), in one place so that every message states the same rule. */
final class Arguments {

    static final int MAX_KEY_LENGTH = 512;
    static final int MAX_OWNER_LENGTH = 256;
    /** Below every backend's own limit (etcd leases: about 285 years; nanosecond arithmetic: 292). */
    static final Duration MAX_TTL = Duration.ofDays(365);

    private Arguments() {
    }

    static String key(String key) {
        Objects.requireNonNull(key, "key must not be null");
        int length = key.codePointCount(0, key.length());
        if (length < 1 || length > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException(
                    "key must be 1 to " + MAX_KEY_LENGTH + " characters, was " + length);
        }
        requireWellFormed(key, "key");
        return key;
    }

    static String owner(String owner, String name) {
        Objects.requireNonNull(owner, name + " must not be null");
        int length = owner.codePointCount(0, owner.length());
        if (length < 1 || length > MAX_OWNER_LENGTH || owner.isBlank()) {
            throw new IllegalArgumentException(
                    name + " must be 1 to " + MAX_OWNER_LENGTH + " characters and not blank, was "
                            + (owner.isBlank() ? "blank" : length + " characters"));
        }
        requireWellFormed(owner, name);
        return owner;
    }

    /**
     * Stores keep names as UTF-8, where a lone surrogate becomes '?' or U+FFFD: two different
     * names would be one lock, or two owners one holder.
     */
    private static void requireWellFormed(String text, String name) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(name + " must be well-formed UTF-16, but has an unpaired surrogate"
                        + String.format(" U+%04X at index %d", (int) c, i));
            }
        }
    }

    static Duration ttl(Duration ttl, String name) {
        positive(ttl, name);
        if (ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException(name + " must be at most " + MAX_TTL.toDays() + " days, was " + ttl);
        }
        return ttl;
    }

    static Duration positive(Duration duration, String name) {
        Objects.requireNonNull(duration, name + " must not be null");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + duration);
        }
        return duration;
    }

    static Duration notNegative(Duration duration, String name) {
        Objects.requireNonNull(duration, name + " must not be null");
        if (duration.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, was " + duration);
        }
        return duration;
    }
}
