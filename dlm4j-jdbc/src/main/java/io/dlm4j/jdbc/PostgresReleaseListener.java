package io.dlm4j.jdbc;

import io.dlm4j.spi.Subscription;
import io.dlm4j.spi.WakeUps;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * LISTENs on the table's channel on one connection of its own, started by the first waiter and
 * kept until the Dlm closes, and wakes the waiters of each released key. When the connection is
 * lost it connects again, waking every waiter on each try meanwhile (they poll), and once more
 * when it listens again, because a release may have gone unheard in between; the first LISTEN is
 * covered the same way, so a release between a waiter's subscription and the LISTEN is never lost.
 */
final class PostgresReleaseListener implements ReleaseListener {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresReleaseListener.class);
    /** How long one wait for notifications lasts: also how long close() may wait for the thread. */
    private static final int POLL_MILLIS = 100;
    /** How long a silent LISTEN connection goes before it is asked whether the server is still there. */
    static final long HEARTBEAT_MILLIS = 5_000;
    private static final Duration FIRST_RETRY = Duration.ofMillis(100);
    private static final Duration LAST_RETRY = Duration.ofSeconds(1);

    private final DataSource source;
    private final String channel;
    private final Dialect dialect;
    private final String description;
    private final int networkTimeoutMillis;
    private final Set<String> secrets;
    private final WakeUps waiters = new WakeUps();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition stopped = lock.newCondition();
    private Thread thread;
    private boolean closed;

    PostgresReleaseListener(DataSource source, Dialect dialect, String description, Duration operationTimeout) {
        this(source, dialect, description, operationTimeout, Set.of());
    }

    /** @param secrets hidden in the log lines of its failures: the passwords of the Dlm's URL */
    PostgresReleaseListener(DataSource source, Dialect dialect, String description, Duration operationTimeout,
                            Set<String> secrets) {
        this.secrets = secrets;
        this.source = source;
        this.channel = dialect.table.channel();
        this.dialect = dialect;
        this.description = description;
        this.networkTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, operationTimeout.toMillis()));
    }

    @Override
    public Subscription subscribe(String key, Runnable wake) {
        Subscription subscription = waiters.add(key, wake);
        lock.lock();
        try {
            if (!closed && thread == null) {
                thread = new Thread(this::listen, "dlm4j-postgres-listen");
                thread.setDaemon(true);
                thread.start();
            }
        } finally {
            lock.unlock();
        }
        return subscription;
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    private void listen() {
        Duration retry = FIRST_RETRY;
        boolean warned = false;
        try {
            while (!isClosed()) {
                try (Connection connection = source.getConnection()) {
                    connection.setAutoCommit(true);
                    connection.setNetworkTimeout(Connections.DIRECT, networkTimeoutMillis);
                    PGConnection notifications = connection.unwrap(PGConnection.class);
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("LISTEN \"" + channel + "\"");
                    }
                    try {
                        if (warned) {
                            LOG.info("{}: listening for releases again", description);
                        }
                        warned = false;
                        retry = FIRST_RETRY;
                        waiters.wakeAll();
                        receive(connection, notifications);
                    } finally {
                        unlisten(connection); // whatever ended the receiving, the pool gets it back deaf
                    }
                } catch (SQLException | RuntimeException e) {
                    if (isClosed()) {
                        return;
                    }
                    if (!warned) {
                        LOG.warn("{}: the LISTEN connection failed ({}); waiters poll until it is back",
                                description, SqlFailure.describe(e instanceof SQLException sql ? sql : new SQLException(e), secrets));
                        warned = true;
                    }
                }
                waiters.wakeAll();
                if (!pause(retry)) {
                    return;
                }
                retry = retry.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : retry.multipliedBy(2);
            }
        } finally {
            lock.lock();
            try {
                thread = null;
                stopped.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Hands notifications to the waiters until closed. pgjdbc's wait for notifications sends
     * nothing, so a connection that went half-open (a failover that moved the address, a network
     * drop without a reset) would stay silent for ever: when nothing arrived for
     * {@value #HEARTBEAT_MILLIS} ms, a {@code SELECT 1} asks the server, and fails within the
     * network timeout if it is gone.
     */
    private void receive(Connection connection, PGConnection notifications) throws SQLException {
        long lastHeard = System.nanoTime();
        while (!isClosed()) {
            PGNotification[] received = notifications.getNotifications(POLL_MILLIS);
            if (received != null && received.length > 0) {
                lastHeard = System.nanoTime();
                for (PGNotification notification : received) {
                    waiters.wake(dialect.decode(notification.getParameter()));
                }
            } else if (System.nanoTime() - lastHeard > TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS)) {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("SELECT 1");
                }
                lastHeard = System.nanoTime();
            }
        }
    }

    /**
     * A pooled connection keeps listening after it is given back, and would collect every later
     * notification of the channel for whoever borrows it next.
     */
    private void unlisten(Connection connection) {
        try (Statement statement = connection.createStatement()) {
            statement.execute("UNLISTEN *");
        } catch (SQLException e) {
            LOG.debug("{}: UNLISTEN before giving the connection back failed: {}", description,
                    io.dlm4j.spi.Redacted.hide(e.getMessage(), secrets));
        }
    }

    /** Waits before the next connection attempt; false once closed. */
    private boolean pause(Duration pause) {
        lock.lock();
        try {
            long nanos = pause.toNanos();
            while (!closed && nanos > 0) {
                nanos = stopped.awaitNanos(nanos);
            }
            return !closed;
        } catch (InterruptedException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops listening and waits (one poll at most) until the connection is back with its pool. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            stopped.signalAll();
            long nanos = TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS * 20L);
            while (thread != null && nanos > 0) {
                nanos = stopped.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        waiters.clear();
    }
}
