package io.dlm4j;

import java.time.Instant;

/**
 * Who holds a lock: the holder's owner and fencing token, and when the hold expires, estimated
 * on the reading client's clock from the backend's own judgement of the time left.
 */
public record LockInfo(String key, String owner, long fencingToken, Instant expiresAt) {
}
