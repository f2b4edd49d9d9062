package io.dlm4j.bench;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.jdbc.BenchStatements;
import io.dlm4j.jdbc.JdbcDlm;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.jdbctemplate.JdbcTemplateLockProvider;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.integration.jdbc.lock.DefaultLockRepository;
import org.springframework.integration.jdbc.lock.JdbcLockRegistry;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;

/**
 * The libraries measured on PostgreSQL and MariaDB, all on the fork's one HikariCP pool of
 * {@link JdbcCounter#POOL_SIZE} connections (counted, see {@link JdbcCounter}).
 */
final class JdbcLibraries {

    static final String RAW_TABLE = "bench_raw";
    static final String POLL_TABLE = "bench_poll";
    static final String SHEDLOCK_TABLE = "shedlock";
    /** Spring Integration's table, INT_ + LOCK, as its schema scripts create it. */
    static final String SI_TABLE = "INT_LOCK";

    private JdbcLibraries() {
    }

    /** MariaDB's raw statements read "busy" from the affected-row count (0: the upsert changed nothing). */
    static String urlParameters(String backend, String library) {
        return backend.equals("mariadb") && (library.equals("raw-sql") || library.equals("polling"))
                ? "useAffectedRows=true" : "";
    }

    static LockClient create(String library, JdbcCounter db, Duration ttl) throws Exception {
        boolean postgres = db.backend().equals("postgres");
        return switch (library) {
            case "raw-sql" -> new RawSql(db, RAW_TABLE, postgres, false, ttl);
            case "polling" -> new RawSql(db, POLL_TABLE, postgres, true, ttl);
            case "dlm4j" -> dlm4j(db, postgres, ttl);
            case "shedlock-jdbc" -> new ShedLockJdbc(db, postgres, ttl);
            case "si-jdbc" -> new SpringIntegration(db, postgres, ttl);
            default -> throw new IllegalArgumentException("library must be one of raw-sql, polling, dlm4j, shedlock-jdbc, "
                    + "si-jdbc for " + db.backend() + ", was '" + library + "'");
        };
    }

    /**
     * dlm4j on the counted pool; on PostgreSQL the LISTEN connection comes from outside the pool
     * (as {@code Dlms.fromUri} does it), so that the waiters' one connection does not take one of the 8.
     */
    private static LockClient dlm4j(JdbcCounter db, boolean postgres, Duration ttl) {
        JdbcDlm.Builder builder = JdbcDlm.builder(db.dataSource()).options(DlmOptions.builder().defaultTtl(ttl).build());
        if (postgres) {
            PGSimpleDataSource listen = new PGSimpleDataSource();
            listen.setUrl(db.url());
            listen.setUser(db.user());
            listen.setPassword(db.password());
            builder.listenDataSource(listen);
        }
        Dlm dlm = builder.build();
        return new DlmClient(dlm, ttl, () -> { });
    }

    /**
     * The statements dlm4j sends, taken from its own dialect classes ({@link BenchStatements}), on
     * another table: PostgreSQL's one {@code INSERT … ON CONFLICT … RETURNING} to acquire and its
     * release {@code UPDATE} (with the NOTIFY in it); MariaDB's {@code INSERT … ON DUPLICATE KEY
     * UPDATE} alone (its affected-row count tells the result, so not the read-back dlm4j adds) and
     * its release {@code UPDATE}. A pooled connection per statement, as dlm4j; no engine, no retry.
     */
    static final class RawSql implements LockClient {
        private final DataSource ds;
        private final BenchStatements.Statements sql;
        private final boolean postgres;
        private final boolean polling;
        private final long ttlMillis;

        RawSql(JdbcCounter db, String table, boolean postgres, boolean polling, Duration ttl) throws Exception {
            this.ds = db.dataSource();
            this.sql = postgres ? BenchStatements.postgres(table) : BenchStatements.mariaDb(table);
            this.postgres = postgres;
            this.polling = polling;
            this.ttlMillis = ttl.toMillis();
            for (String ddl : sql.ddl()) {
                db.execute(ddl);
            }
        }

        @Override
        public boolean canWait() {
            return polling;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            PollingLock.Attempt attempt = new PollingLock.Attempt() {
                @Override
                public boolean tryLock() throws Exception {
                    String mark = UUID.randomUUID().toString();
                    try (Connection c = ds.getConnection(); PreparedStatement s = c.prepareStatement(sql.acquire())) {
                        s.setString(1, key);
                        s.setString(2, owner);
                        s.setLong(3, ttlMillis);
                        s.setString(4, mark);
                        if (!postgres) {
                            return s.executeUpdate() > 0;
                        }
                        s.setString(5, key);
                        try (ResultSet r = s.executeQuery()) {
                            return r.next() && r.getBoolean(5);
                        }
                    }
                }

                @Override
                public void unlock() throws Exception {
                    try (Connection c = ds.getConnection(); PreparedStatement s = c.prepareStatement(sql.release())) {
                        s.setString(1, key);
                        s.setString(2, owner);
                        if (postgres) {
                            s.setString(3, sql.channel());
                            try (ResultSet r = s.executeQuery()) {
                                r.next();
                            }
                        } else {
                            s.executeUpdate();
                        }
                    }
                }
            };
            return polling ? new PollingLock(attempt) : new TryOnlyLock(attempt, key);
        }
    }

    /**
     * ShedLock's JDBC provider, {@code JdbcTemplateLockProvider} with {@code usingDbTime()} (its
     * table as ShedLock's README gives it): try-lock only, as on MongoDB; every thread of a JVM is one owner.
     */
    static final class ShedLockJdbc implements LockClient {
        private final JdbcTemplateLockProvider provider;
        private final Duration ttl;

        ShedLockJdbc(JdbcCounter db, boolean postgres, Duration ttl) throws Exception {
            db.execute(postgres
                    ? "CREATE TABLE shedlock(name VARCHAR(64) NOT NULL, lock_until TIMESTAMP NOT NULL,"
                    + " locked_at TIMESTAMP NOT NULL, locked_by VARCHAR(255) NOT NULL, PRIMARY KEY (name))"
                    : "CREATE TABLE shedlock(name VARCHAR(64) NOT NULL, lock_until TIMESTAMP(3) NOT NULL,"
                    + " locked_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), locked_by VARCHAR(255) NOT NULL,"
                    + " PRIMARY KEY (name))");
            this.provider = new JdbcTemplateLockProvider(JdbcTemplateLockProvider.Configuration.builder()
                    .withJdbcTemplate(new JdbcTemplate(db.dataSource()))
                    .withTableName(SHEDLOCK_TABLE)
                    .usingDbTime()
                    .build());
            this.ttl = ttl;
        }

        @Override
        public boolean canWait() {
            return false;
        }

        @Override
        public LockHandle handle(String key, String owner) {
            return new LockHandle() {
                private SimpleLock lock;

                @Override
                public void lock() {
                    Optional<SimpleLock> got = provider.lock(new LockConfiguration(Instant.now(), key, ttl, Duration.ZERO));
                    lock = got.orElseThrow(() -> new IllegalStateException(
                            "ShedLock did not get '" + key + "' in an uncontended run"));
                }

                @Override
                public void unlock() {
                    lock.unlock();
                }
            };
        }
    }

    /**
     * Spring Integration's {@code JdbcLockRegistry} on a {@code DefaultLockRepository} (table INT_LOCK
     * from the schema script in its jar, ttl as the others'), polling every
     * {@link PollingLock#WAITING_INTERVAL} while the lock is held elsewhere. One registry and
     * repository (one CLIENT_ID) per owner: a registry's locks are shared by its threads through a
     * local ReentrantLock, so one registry for all threads would hand the lock over in the JVM and
     * never measure the database.
     */
    static final class SpringIntegration implements LockClient {
        private final DataSource ds;
        private final int ttlMillis;
        private final Map<String, JdbcLockRegistry> registries = new ConcurrentHashMap<>();
        private final Map<String, DefaultLockRepository> repositories = new ConcurrentHashMap<>();

        SpringIntegration(JdbcCounter db, boolean postgres, Duration ttl) throws Exception {
            String script = "org/springframework/integration/jdbc/schema-" + (postgres ? "postgresql" : "mysql") + ".sql";
            String text;
            try (InputStream in = DefaultLockRepository.class.getClassLoader().getResourceAsStream(script)) {
                if (in == null) {
                    throw new IOException(script + " is not on the class path");
                }
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            int made = 0;
            for (String statement : text.split(";")) {
                if (statement.contains("CREATE TABLE " + SI_TABLE + " ") || statement.contains("CREATE TABLE " + SI_TABLE + "\t")
                        || statement.contains("CREATE TABLE " + SI_TABLE + "(")) {
                    db.execute(statement.strip());
                    made++;
                }
            }
            if (made != 1) {
                throw new IllegalStateException(script + " has " + made + " CREATE TABLE " + SI_TABLE + " statements, not 1");
            }
            this.ds = db.dataSource();
            this.ttlMillis = (int) ttl.toMillis();
        }

        private JdbcLockRegistry registry(String owner) {
            return registries.computeIfAbsent(owner, o -> {
                DefaultLockRepository repository = new DefaultLockRepository(ds);
                repository.setTimeToLive(ttlMillis);
                repository.setTransactionManager(new DataSourceTransactionManager(ds));
                repository.afterPropertiesSet();
                repository.afterSingletonsInstantiated();
                repositories.put(o, repository);
                JdbcLockRegistry registry = new JdbcLockRegistry(repository);
                registry.setIdleBetweenTries(PollingLock.WAITING_INTERVAL);
                return registry;
            });
        }

        @Override
        public LockHandle handle(String key, String owner) {
            Lock lock = registry(owner).obtain(key);
            return new LockHandle() {
                @Override
                public void lock() {
                    lock.lock();
                }

                @Override
                public void unlock() {
                    lock.unlock();
                }
            };
        }

        @Override
        public void close() {
            repositories.values().forEach(DefaultLockRepository::close);
        }
    }
}
