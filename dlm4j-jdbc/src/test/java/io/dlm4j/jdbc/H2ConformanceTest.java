package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The whole contract on H2 in memory, through a HikariCP pool as an application has one. */
class H2ConformanceTest extends ConformanceSuite {

    private static HikariDataSource pool;

    @BeforeAll
    static void openDatabase() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:conformance;DB_CLOSE_DELAY=-1");
        config.setMaximumPoolSize(16);
        pool = new HikariDataSource(config);
    }

    @AfterAll
    static void closeDatabase() {
        pool.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return JdbcDlm.create(pool, options);
    }

    @Override
    protected void deleteStoredRecord(String key) {
        try (Connection connection = pool.getConnection();
             PreparedStatement delete = connection.prepareStatement("DELETE FROM dlm4j_locks WHERE lock_key = ?")) {
            delete.setString(1, key);
            delete.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
