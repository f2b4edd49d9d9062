package io.dlm4j.jdbc;

import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The JDBC store's promises on MariaDB, through MariaDB's driver. */
@WithMariaDb
class MariaDbStoreTest extends JdbcStoreContract {

    private final MariaDbServer server;

    MariaDbStoreTest(MariaDbServer shared) {
        this.server = shared;
    }

    @Override
    TestDatabase database() {
        return new MariaDbTestDatabase(server, MariaDbTestDatabase.Driver.MARIADB);
    }

    @Override
    String userWithPassword() {
        return server.user();
    }

    /** Deletes a lock's row by hand, as an operator would. */
    static void delete(DataSource source, String key) {
        try (Connection connection = source.getConnection();
             PreparedStatement delete = connection.prepareStatement("DELETE FROM dlm4j_locks WHERE lock_key = ?")) {
            delete.setString(1, key);
            delete.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
