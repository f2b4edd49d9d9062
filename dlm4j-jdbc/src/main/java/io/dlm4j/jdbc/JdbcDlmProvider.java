package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.spi.DlmProvider;
import io.dlm4j.spi.Redacted;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * Serves JDBC URLs, {@code jdbc:postgresql://h:5432/db?user=u&password=p}, {@code jdbc:mariadb://…},
 * {@code jdbc:mysql://…} (MySQL Connector/J, on MariaDB), {@code jdbc:h2:mem:x} and
 * {@code jdbc:h2:file:…}, with the credentials as the driver reads them from the URL. The Dlm gets
 * a small HikariCP pool of its own (at most {@value #POOL_SIZE} connections, waiting at most the
 * operation timeout for one), closed with the Dlm; PostgreSQL's LISTEN connection is opened
 * outside it. An in-memory H2 database is kept while the Dlm lives ({@code DB_CLOSE_DELAY=-1}).
 */
public final class JdbcDlmProvider implements DlmProvider {

    static final int POOL_SIZE = 8;
    /** HikariCP's least connection timeout. */
    private static final long LEAST_TIMEOUT_MILLIS = 250;

    @Override
    public Set<String> schemes() {
        return Set.of("jdbc:postgresql", "jdbc:mariadb", "jdbc:mysql", "jdbc:h2");
    }

    @Override
    public Dlm create(String uri, DlmOptions options) {
        String shown = Redacted.uri(uri);
        String lower = uri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:h2:mem:;") || lower.equals("jdbc:h2:mem:")) {
            // an unnamed in-memory database is a new one for every connection of the pool
            throw new IllegalArgumentException("uri jdbc:h2:mem: needs a database name (jdbc:h2:mem:locks), was " + shown);
        }
        requireDriver(uri, shown);
        String url = withH2Kept(uri);
        HikariDataSource pool = new HikariDataSource(config(url, options.operationTimeout(), shown));
        try {
            int loginSeconds = (int) Math.max(1, (options.operationTimeout().toMillis() + 999) / 1000);
            return JdbcDlm.builder(pool).options(options)
                    .listenDataSource(new UrlDataSource(url, loginSeconds))
                    .ownedPool(pool, shown, Redacted.secretsIn(uri)).build();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** A clear error, without the pool's (which shows the URL's credentials), when no driver takes the URL. */
    private static void requireDriver(String uri, String shown) {
        try {
            DriverManager.getDriver(uri);
        } catch (SQLException e) {
            String lower = uri.toLowerCase(Locale.ROOT);
            String artifact = lower.startsWith("jdbc:postgresql:") ? "org.postgresql:postgresql"
                    : lower.startsWith("jdbc:mariadb:") ? "org.mariadb.jdbc:mariadb-java-client"
                    : lower.startsWith("jdbc:mysql:") ? "com.mysql:mysql-connector-j"
                    : "com.h2database:h2";
            throw new IllegalArgumentException("no JDBC driver on the class path takes " + shown + ": add " + artifact, e);
        }
    }

    private static HikariConfig config(String url, Duration timeout, String shown) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setPoolName("dlm4j " + JdbcLockStore.nameFromUrl(url));
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(1);
        long timeoutMillis = Math.max(LEAST_TIMEOUT_MILLIS, timeout.toMillis());
        config.setConnectionTimeout(timeoutMillis);
        config.setValidationTimeout(Math.max(LEAST_TIMEOUT_MILLIS, Math.min(timeoutMillis, 5_000)));
        // the database may be down now and up later: the Dlm starts, and its operations fail in time meanwhile
        config.setInitializationFailTimeout(-1);
        config.setAutoCommit(true);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        return config;
    }

    /** An in-memory H2 database vanishes with its last connection; the pool may close them all. */
    private static String withH2Kept(String uri) {
        String lower = uri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:h2:mem:") && !lower.contains("db_close_delay")) {
            return uri + ";DB_CLOSE_DELAY=-1";
        }
        return uri;
    }
}
