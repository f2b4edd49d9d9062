package io.dlm4j.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * A live hold as the backend sees it.
 *
 * @param owner        who holds the lock
 * @param fencingToken the hold's token; 0 if the record carries none (one written by another
 *                     program, such as the Go {@code mongolock})
 * @param remaining    time left before the hold expires, by the backend's clock; for the caller's own
 *                     new or refreshed hold, what the store can promise (the ttl, less for Redlock's
 *                     validity, more where the store rounds the ttl up)
 */
public record StoredHold(String owner, long fencingToken, Duration remaining) {

    public StoredHold {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(remaining, "remaining");
    }
}
