package io.dlm4j;

import java.time.Duration;
import java.util.Objects;

/** The argument rules of API.md, in one place so that every message states the same rule. */
final class Arguments {

    static final int MAX_KEY_LENGTH = 512;
    static final int MAX_OWNER_LENGTH = 256;

    private Arguments() {
    }

    static String key(String key) {
        Objects.requireNonNull(key, "key must not be null");
        int length = key.codePointCount(0, key.length());
        if (length < 1 || length > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException(
                    "key must be 1 to " + MAX_KEY_LENGTH + " characters, was " + length);
        }
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
        return owner;
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
