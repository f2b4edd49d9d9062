package io.dlm4j.jdbc;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * Borrows connections from the DataSource with the settings every statement of the store counts
 * on, whatever the pool's defaults: autocommit (each statement is its own transaction, never the
 * caller's), READ COMMITTED (a SERIALIZABLE default makes PostgreSQL's ON CONFLICT fail with 40001
 * under contention) and a network timeout of the operation's timeout (a frozen server must not
 * hold a caller for ever). Pools restore what was changed when the connection comes back.
 */
final class Connections {

    /** Work on a connection. */
    @FunctionalInterface
    interface Work<T> {
        T run(Sql sql) throws SQLException;
    }

    /**
     * The executor of {@code setNetworkTimeout}: the caller's own thread. MySQL Connector/J applies
     * the timeout through it, asynchronously with any other executor, so that a statement could run
     * before it (with no timeout at all) and the setter after the pool's reset; pgjdbc and MariaDB
     * Connector/J ignore it.
     */
    static final Executor DIRECT = Runnable::run;

    private final DataSource source;
    private final int timeoutMillis;
    /** Whether the source already hands out READ COMMITTED connections; learnt from the first one. */
    private volatile Boolean readCommittedByDefault;

    Connections(DataSource source, Duration operationTimeout) {
        this.source = source;
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, operationTimeout.toMillis()));
    }

    /**
     * Runs {@code work} on a borrowed connection.
     *
     * @param queryTimeout whether statements also carry a query timeout, for drivers that cancel in
     *                     the server's own session; pgjdbc cancels over a new connection and waits
     *                     for it (up to its cancelSignalTimeout, 10 s) after a read timed out, so on
     *                     PostgreSQL the network timeout alone bounds a statement
     */
    <T> T run(Work<T> work, boolean queryTimeout, long deadlineNanos) throws SQLException {
        try (Connection connection = source.getConnection()) {
            // one deadline for the operation: what the wait for the connection took is gone
            long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0) {
                throw new SQLTimeoutException("no time left of the operation timeout of " + timeoutMillis
                        + " ms once the pool handed out a connection");
            }
            try {
                prepare(connection, (int) leftMillis);
            } catch (SQLException e) {
                // nothing was sent yet: a connection that fails here is a lost one, whatever state the
                // driver gives (MariaDB's says 42000 for a closed connection), and worth another
                throw new SQLNonTransientConnectionException("the pooled connection failed before its first statement: "
                        + e.getMessage(), "08003", e);
            }
            // whole seconds, less than what is left, so that the server cancels before the socket gives
            // up (a socket timeout loses the connection, and the server may still run the statement)
            int seconds = (int) ((leftMillis - 1) / 1000);
            return work.run(new Sql(connection, queryTimeout ? seconds : 0));
        }
    }

    private void prepare(Connection connection, int networkTimeoutMillis) throws SQLException {
        try {
            connection.setNetworkTimeout(DIRECT, networkTimeoutMillis);
        } catch (SQLFeatureNotSupportedException | AbstractMethodError e) {
            // H2 in memory has no network to time out
        }
        if (!connection.getAutoCommit()) {
            connection.setAutoCommit(true);
        }
        Boolean readCommitted = readCommittedByDefault;
        if (readCommitted == null) {
            readCommitted = connection.getTransactionIsolation() == Connection.TRANSACTION_READ_COMMITTED;
            readCommittedByDefault = readCommitted;
        }
        if (!readCommitted) {
            connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        }
    }

    int timeoutMillis() {
        return timeoutMillis;
    }
}
