package io.dlm4j.spi;

import java.time.Duration;

/** One hold in a {@link LockStore#refreshAll} batch: extend {@code key}'s hold by {@code owner} to {@code ttl}. */
public record HoldToRefresh(String key, String owner, Duration ttl) {
}
