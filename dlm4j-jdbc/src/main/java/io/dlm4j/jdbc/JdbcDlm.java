package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link Dlm} on a table of a relational database: PostgreSQL 12+, MariaDB 10.6+ (through
 * MariaDB Connector/J or MySQL Connector/J) or H2 2.x. The table (default {@value #DEFAULT_TABLE})
 * is {@code lock_key} (primary key, compared exactly), {@code owner}, {@code token},
 * {@code expires_at} (milliseconds since the epoch by the database's clock) and {@code attempt}; a
 * sequence {@code <table>_token} issues the fencing tokens. Both are created when missing unless
 * {@link Builder#createTable(boolean) createTable(false)}; docs/JDBC.md has the DDL of each database.
 *
 * <p>What the store guarantees:
 * <ul>
 *   <li>Every acquire, relock and release is decided by one statement of the database, atomically;
 *       a busy lock is a normal result, never a duplicate-key error in the server's log.</li>
 *   <li>Every expiry is judged by the database's clock; the client's clock is never used.</li>
 *   <li>Tokens rise strictly per key, also after rows are deleted: a release never deletes the row,
 *       and the sequence outlives the rows.</li>
 *   <li>The store's statements run on autocommit connections of its own, READ COMMITTED, whatever
 *       the pool's defaults: a lock never joins the caller's transaction, so a lock taken inside a
 *       transaction that rolls back stays taken. Pass the pool itself, not a Spring
 *       {@code TransactionAwareDataSourceProxy}, which would hand out the transaction's connection.</li>
 *   <li>On PostgreSQL, waiters are woken by LISTEN/NOTIFY on one connection per Dlm, taken from the
 *       DataSource on the first wait and kept until {@link Dlm#close()}: it counts against the pool
 *       (or comes from {@link Builder#listenDataSource}). MariaDB and H2 waiters poll, never
 *       longer than the time the holder has left.</li>
 *   <li>Every operation is bounded by the Dlm's operation timeout, one deadline for the wait for a
 *       pooled connection and its statements (network timeouts; query timeouts on MariaDB); the
 *       pool's own connection timeout should be at most the operation timeout.</li>
 * </ul>
 * Closing the Dlm leaves the DataSource open.
 */
public final class JdbcDlm {

    /** The lock table's default name. */
    public static final String DEFAULT_TABLE = Table.DEFAULT;

    private static final Logger LOG = LoggerFactory.getLogger(JdbcDlm.class);

    private JdbcDlm() {
    }

    /**
     * A Dlm on {@code dataSource}'s table {@value #DEFAULT_TABLE}, created if missing.
     *
     * @throws NullPointerException if an argument is null
     */
    public static Dlm create(DataSource dataSource, DlmOptions options) {
        return builder(dataSource).options(options).build();
    }

    /**
     * A builder of a Dlm on {@code dataSource}.
     *
     * @throws NullPointerException if {@code dataSource} is null
     */
    public static Builder builder(DataSource dataSource) {
        return new Builder(Objects.requireNonNull(dataSource, "dataSource must not be null"));
    }

    /** The settings of a {@link JdbcDlm}; {@link #build()} makes the Dlm. */
    public static final class Builder {

        private final DataSource dataSource;
        private DataSource listenDataSource;
        private DlmOptions options = DlmOptions.defaults();
        private Table table = new Table(Table.DEFAULT);
        private boolean createTable = true;
        private String address;
        private AutoCloseable ownedPool;
        private Set<String> secrets = Set.of();

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        /**
         * The lock table: a lower-case SQL identifier of letters, digits and {@code _}, at most 51
         * characters, optionally qualified by a schema ({@code locks.dlm4j_locks}). Default
         * {@value JdbcDlm#DEFAULT_TABLE}.
         *
         * @throws IllegalArgumentException if the name breaks that rule
         */
        public Builder table(String table) {
            this.table = new Table(table);
            return this;
        }

        /**
         * Whether the Dlm creates the table and its sequence when they are missing (default true).
         * With false, a missing table fails every operation with the DDL to run.
         */
        public Builder createTable(boolean createTable) {
            this.createTable = createTable;
            return this;
        }

        /**
         * Where PostgreSQL's LISTEN connection comes from (default: the Dlm's DataSource, where it
         * holds one connection of the pool from the first wait until the Dlm closes). Not used on
         * other databases. Not PgBouncer in transaction mode, which cannot keep a LISTEN.
         *
         * @throws NullPointerException if {@code listenDataSource} is null
         */
        public Builder listenDataSource(DataSource listenDataSource) {
            this.listenDataSource = Objects.requireNonNull(listenDataSource, "listenDataSource must not be null");
            return this;
        }

        /**
         * The Dlm's options (default {@link DlmOptions#defaults()}).
         *
         * @throws NullPointerException if {@code options} is null
         */
        public Builder options(DlmOptions options) {
            this.options = Objects.requireNonNull(options, "options must not be null");
            return this;
        }

        /**
         * For {@code Dlms.fromUri}: the pool the Dlm made and closes, its redacted URL, and the URL's
         * passwords, hidden in every failure's message (drivers repeat parts of a URL they could not parse).
         */
        Builder ownedPool(AutoCloseable pool, String redactedUrl, Set<String> secrets) {
            this.ownedPool = pool;
            this.address = redactedUrl;
            this.secrets = Set.copyOf(secrets);
            return this;
        }

        /** The Dlm. The database is not reached yet if it is down: every operation tries again first. */
        public Dlm build() {
            JdbcLockStore store = new JdbcLockStore(dataSource, table, createTable,
                    listenDataSource != null ? listenDataSource : dataSource, options.operationTimeout(), address, ownedPool,
                    secrets);
            try {
                store.prepare();
            } catch (RuntimeException e) {
                // Not fatal: the database may come up later; every operation prepares again first.
                LOG.warn("{}: could not check the lock table yet: {}", store.describe(), e.getMessage());
            }
            return new StoreBackedDlm(store, options);
        }
    }
}
