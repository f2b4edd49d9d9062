package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole contract on a real MariaDB server through MariaDB Connector/J, on a HikariCP pool;
 * waiters poll. {@link MariaDbMysqlDriverConformanceTest} runs it through MySQL Connector/J.
 */
@WithMariaDb(own = true)
class MariaDbConformanceTest extends ConformanceSuite {

    private static MariaDbServer server;
    private static HikariDataSource pool;

    @BeforeAll
    static void startServer(MariaDbServer own) {
        server = own;
        pool = pool(server, MariaDbTestDatabase.Driver.MARIADB);
    }

    static HikariDataSource pool(MariaDbServer server, MariaDbTestDatabase.Driver driver) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(MariaDbTestDatabase.url(server, driver, server.user(), server.password()));
        config.setMaximumPoolSize(16);
        config.setConnectionTimeout(5_000);
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
    protected void deleteStoredRecord(String key) {
        MariaDbStoreTest.delete(pool, key);
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
