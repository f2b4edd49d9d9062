package io.dlm4j.jdbc;

import io.dlm4j.spi.Subscription;

/**
 * Pushes release notices to waiters (PostgreSQL's LISTEN). An interface, so that the store loads
 * the PostgreSQL driver's classes only on PostgreSQL.
 */
interface ReleaseListener extends AutoCloseable {

    Subscription subscribe(String key, Runnable wake);

    @Override
    void close();
}
