package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithPostgres;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The whole contract on a real PostgreSQL server, through a HikariCP pool; waiters are woken by NOTIFY. */
@WithPostgres(own = true)
class PostgresConformanceTest extends ConformanceSuite {

    private static PostgresServer server;
    private static HikariDataSource pool;

    @BeforeAll
    static void startServer(PostgresServer own) {
        server = own;
        pool = pool(server);
    }

    static HikariDataSource pool(PostgresServer server) {
        return pool(server, config -> { });
    }

    /** A pool of the superuser's connections as an application makes it, adjusted by {@code settings}. */
    static HikariDataSource pool(PostgresServer server, java.util.function.Consumer<HikariConfig> settings) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(server.jdbcUrl());
        config.setUsername(server.user());
        config.setPassword(server.password());
        config.setMaximumPoolSize(16);
        config.setConnectionTimeout(5_000);
        settings.accept(config);
        return new HikariDataSource(config);
    }

    @AfterAll
    static void stopServer() {
        pool.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return JdbcDlm.create(pool, options);
    }

    @Override
    protected boolean notifiesWaitersOnRelease() {
        return true;
    }

    @Override
    protected void deleteStoredRecord(String key) {
        server.sql("DELETE FROM dlm4j_locks WHERE lock_key = '" + key.replace("'", "''") + "'");
    }

    @Override
    protected void freezeBackend() {
        server.pause();
    }

    @Override
    protected void thawBackend() {
        server.resume();
    }
}
