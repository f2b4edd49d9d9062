package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The whole contract on a real MariaDB server through MySQL Connector/J (not frozen: {@link MariaDbConformanceTest} freezes). */
@WithMariaDb
class MariaDbMysqlDriverConformanceTest extends ConformanceSuite {

    private static HikariDataSource pool;

    @BeforeAll
    static void startServer(MariaDbServer shared) {
        pool = MariaDbConformanceTest.pool(shared, MariaDbTestDatabase.Driver.MYSQL);
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
}
