package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Consumer;

/**
 * A database the JDBC tests run on: where it is, how to reach it as its administrator, and pools
 * on it as an application would make them.
 */
interface TestDatabase {

    /** "PostgreSQL", "MariaDB", "H2": what the store's messages name. */
    String name();

    /** What a Dlm's messages name before its first connection told it the database: the URL's. */
    default String nameInUrl() {
        return name();
    }

    /** A JDBC URL with the administrator's credentials in it, as {@code Dlms.fromUri} takes it. */
    String url();

    /** The same URL with another user's credentials. */
    String urlAs(String user, String password);

    /** Creates a user who may read the lock tables but not write them. */
    void createReadOnlyUser(String user, String password);

    /** A pool as an application makes it, adjusted by {@code settings}; the caller closes it. */
    default HikariDataSource pool(Consumer<HikariConfig> settings) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url());
        config.setMaximumPoolSize(8);
        settings.accept(config);
        return new HikariDataSource(config);
    }

    /** Runs one statement as the administrator. */
    default void execute(DataSource source, String sql) {
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of a query. */
    default long queryLong(DataSource source, String sql) {
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            if (!rows.next()) {
                throw new IllegalStateException(sql + ": no row");
            }
            return rows.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
