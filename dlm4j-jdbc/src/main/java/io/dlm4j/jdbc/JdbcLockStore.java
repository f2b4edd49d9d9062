package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import io.dlm4j.spi.Redacted;

import javax.sql.DataSource;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Locks as rows of one table, {@code (lock_key, owner, token, expires_at, attempt)}: each
 * decision is one statement of the database (see {@link Dialect}), every expiry is judged by the
 * database's clock, and tokens come from a sequence that outlives the rows. The dialect is found
 * on the first connection, and the table is checked (or created) before the first operation; if
 * the database is down then, every operation tries again first.
 */
final class JdbcLockStore implements LockStore {

    /** How often an acquire looks again when the row changed hands between its statements. */
    private static final int TRIES = 5;
    /** How often a statement that failed as a whole (serialization failure, deadlock) runs again. */
    private static final int STATEMENT_TRIES = 5;

    private final Connections connections;
    private final Table table;
    private final boolean createTable;
    private final DataSource listenSource;
    private final Duration operationTimeout;
    private final AutoCloseable ownedPool;
    private final String address;
    private final Set<String> secrets;
    private volatile Dialect dialect;
    private volatile String description;
    private volatile boolean prepared;
    private ReleaseListener listener;
    private boolean closed;

    /**
     * @param address    where the database is, for messages (a redacted URL), or null to learn it
     *                   from the first connection
     * @param listenSource where PostgreSQL's LISTEN connection comes from
     * @param ownedPool  closed with the store; null for the user's DataSource
     */
    JdbcLockStore(DataSource source, Table table, boolean createTable, DataSource listenSource,
                  Duration operationTimeout, String address, AutoCloseable ownedPool) {
        this(source, table, createTable, listenSource, operationTimeout, address, ownedPool, Set.of());
    }

    /** @param secrets hidden in every failure's message: the passwords of the URL the Dlm was made from */
    JdbcLockStore(DataSource source, Table table, boolean createTable, DataSource listenSource,
                  Duration operationTimeout, String address, AutoCloseable ownedPool, Set<String> secrets) {
        this.secrets = secrets;
        this.connections = new Connections(source, operationTimeout);
        this.table = table;
        this.createTable = createTable;
        this.listenSource = listenSource;
        this.operationTimeout = operationTimeout;
        this.ownedPool = ownedPool;
        this.address = address;
        this.description = describe(nameFromUrl(address), address);
    }

    /** Finds the dialect and checks the table; a failure leaves it to the next operation. */
    void prepare() {
        prepare(deadline());
    }

    /** {@link #prepare()} within the deadline of the operation that needs it. */
    private void prepare(long deadline) {
        if (prepared) {
            return;
        }
        run(deadline, sql -> {
            Dialect found = dialect;
            if (found == null) {
                found = detect(sql.connection().getMetaData());
                // the URL's name stays, so that messages name what the user wrote: "MySQL (MariaDB) at jdbc:mysql://…"
                String named = nameFromUrl(address);
                String name = address == null || named.equals(found.name()) ? found.name()
                        : named + " (" + found.name() + ")";
                description = describe(name, address != null ? address
                        : Redacted.uri(sql.connection().getMetaData().getURL()));
                dialect = found;
            }
            TableCheck.ensure(sql, found, createTable);
            return null;
        });
        prepared = true;
    }

    private Dialect detect(DatabaseMetaData database) throws SQLException {
        String product = database.getDatabaseProductName();
        String version = database.getDatabaseProductVersion();
        String lower = (product + " " + version).toLowerCase(Locale.ROOT);
        if (lower.contains("postgresql")) {
            return new PostgresDialect(table);
        }
        if (lower.contains("mariadb")) {
            return new MariaDbDialect(table);
        }
        if (lower.contains("h2")) {
            return new H2Dialect(table);
        }
        if (lower.contains("mysql")) {
            throw new IllegalStateException("MySQL " + version + " is not supported yet: it has no sequences, which"
                    + " dlm4j-jdbc issues tokens from; use MariaDB 10.6+, PostgreSQL 12+ or H2 2.x");
        }
        throw new IllegalStateException("the database " + product + " " + version
                + " is not supported: dlm4j-jdbc runs on PostgreSQL 12+, MariaDB 10.6+ and H2 2.x");
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, null);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        long deadline = deadline();
        prepare(deadline);
        String mark = attempt != null ? attempt : UUID.randomUUID().toString();
        long ttlMillis = ceilMillis(ttl);
        return run(deadline, sql -> {
            for (int i = 0; i < TRIES && System.nanoTime() - deadline < 0; i++) {
                Acquisition acquisition = dialect.acquire(sql, key, owner, ttlMillis, mark);
                if (acquisition != null) {
                    return acquisition;
                }
            }
            // taken and released between our statements every time: busy, not broken
            return Acquisition.heldBy(new StoredHold("(changing hands too fast to tell)", 0, Duration.ZERO));
        });
    }

    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        long deadline = deadline();
        prepare(deadline);
        return run(deadline, sql -> dialect.undo(sql, key, owner, attempt)) ? Undo.RELEASED : Undo.NOTHING_TO_UNDO;
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        long deadline = deadline();
        prepare(deadline);
        return run(deadline, sql -> dialect.refresh(sql, key, owner, ceilMillis(ttl)));
    }

    /** Sets the row's expiry to 0 rather than deleting it: the row and its token stay. */
    @Override
    public boolean release(String key, String owner) {
        long deadline = deadline();
        prepare(deadline);
        return run(deadline, sql -> dialect.release(sql, key, owner));
    }

    @Override
    public Optional<StoredHold> read(String key) {
        long deadline = deadline();
        prepare(deadline);
        return run(deadline, sql -> dialect.read(sql, key));
    }

    /** PostgreSQL pushes releases through LISTEN/NOTIFY; the others answer NONE, and waiters poll. */
    @Override
    public Subscription onRelease(String key, Runnable wake) {
        try {
            prepare();
        } catch (RuntimeException e) {
            return Subscription.NONE; // the waiter's next try reports the failure
        }
        ReleaseListener current = listener();
        return current == null ? Subscription.NONE : current.subscribe(key, wake);
    }

    private synchronized ReleaseListener listener() {
        if (listener == null && !closed && dialect instanceof PostgresDialect) {
            listener = new PostgresReleaseListener(listenSource, dialect, description, operationTimeout, secrets);
        }
        return listener;
    }

    @Override
    public Duration ping() {
        long start = System.nanoTime();
        run(deadline(), sql -> {
            try (var statement = sql.prepare("SELECT 1"); var rows = statement.executeQuery()) {
                return rows.next();
            }
        });
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        ReleaseListener current;
        synchronized (this) {
            closed = true;
            current = listener;
        }
        if (current != null) {
            current.close();
        }
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                throw new IllegalStateException(description + ": closing the connection pool failed", e);
            }
        }
    }

    /** The deadline of an operation starting now, in {@link System#nanoTime()}. */
    private long deadline() {
        return System.nanoTime() + operationTimeout.toNanos();
    }

    /**
     * Runs {@code work} on a connection, by {@code deadline} (pool wait and statements). Work that
     * failed as a whole runs again on another connection while half the operation timeout is left:
     * a serialization failure or deadlock (at most {@value #STATEMENT_TRIES} times), or a connection
     * the server had ended (a restart, {@code pg_terminate_backend}) before the pool noticed, after
     * a short pause. Running again is safe for every operation: an acquire that did land is found
     * as the owner's own hold still marked with its attempt, a refresh extends again, a release
     * finds nothing more to release. Earlier failures are kept as suppressed.
     */
    private <T> T run(long deadline, Connections.Work<T> work) {
        List<SQLException> earlier = new ArrayList<>();
        for (int i = 1; ; i++) {
            try {
                Dialect known = dialect;
                return connections.run(work, known != null && known.cancelsByQueryTimeout(), deadline);
            } catch (SQLException e) {
                Dialect current = dialect;
                boolean timeLeft = deadline - System.nanoTime() > operationTimeout.toNanos() / 2;
                // a pool may hand out every one of its connections that the server ended, one after the other
                boolean lost = Dialect.isLostConnection(e);
                boolean retry = lost || current != null && current.isWorthRetrying(e);
                if (!lost && i >= STATEMENT_TRIES || !timeLeft || !retry) {
                    RuntimeException failure;
                    if (current != null && current.isMissingTable(e) && prepared) {
                        failure = new IllegalStateException("the lock table " + table + " or its sequence is gone"
                                + " (dropped while the Dlm ran?): " + SqlFailure.describe(e, secrets),
                                SqlFailure.withoutSecrets(e, secrets));
                    } else {
                        failure = new SqlFailure(e, secrets);
                    }
                    for (SQLException before : earlier) {
                        failure.addSuppressed(SqlFailure.withoutSecrets(before, secrets));
                    }
                    throw failure;
                }
                earlier.add(e);
                if (lost && !pause(Math.min(20L * i, 200L))) {
                    throw new SqlFailure(e, secrets); // interrupted: no more tries
                }
            }
        }
    }

    /** A pause between tries on lost connections, so that a refusing server is not hammered; false if interrupted. */
    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    Dialect dialect() {
        return dialect;
    }

    private static long ceilMillis(Duration ttl) {
        long millis = ttl.toMillis();
        return ttl.minusMillis(millis).isZero() ? Math.max(1, millis) : millis + 1;
    }

    private String describe(String database, String where) {
        return database + (where == null ? "" : " at " + where) + ", table " + table;
    }

    /** "PostgreSQL" from "jdbc:postgresql://…", or "JDBC" before the first connection tells. */
    static String nameFromUrl(String url) {
        if (url == null) {
            return "JDBC database";
        }
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:postgresql:")) {
            return "PostgreSQL";
        }
        if (lower.startsWith("jdbc:mariadb:")) {
            return "MariaDB";
        }
        if (lower.startsWith("jdbc:mysql:")) {
            return "MySQL";
        }
        if (lower.startsWith("jdbc:h2:")) {
            return "H2";
        }
        return "JDBC database";
    }
}
