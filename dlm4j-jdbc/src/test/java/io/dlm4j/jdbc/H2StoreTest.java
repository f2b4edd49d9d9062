package io.dlm4j.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** The JDBC store's promises on H2 in memory. */
class H2StoreTest extends JdbcStoreContract {

    private static final String URL = "jdbc:h2:mem:store";
    private static final String ADMIN = "sa";
    private static final String ADMIN_PASSWORD = "sa-password";

    private final TestDatabase h2 = new TestDatabase() {
        @Override
        public String name() {
            return "H2";
        }

        @Override
        public String url() {
            return URL + ";DB_CLOSE_DELAY=-1;USER=" + ADMIN + ";PASSWORD=" + ADMIN_PASSWORD;
        }

        @Override
        public String urlAs(String user, String password) {
            // only an administrator may set DB_CLOSE_DELAY; the admin's pool keeps the database meanwhile
            return URL + ";USER=" + user + ";PASSWORD=" + password;
        }

        @Override
        public void createReadOnlyUser(String user, String password) {
            try (Connection connection = DriverManager.getConnection(url()); Statement statement = connection.createStatement()) {
                statement.execute("CREATE USER " + user + " PASSWORD '" + password + "'");
                statement.execute("GRANT SELECT ON SCHEMA PUBLIC TO " + user);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    @Override
    TestDatabase database() {
        return h2;
    }

    @Override
    String userWithPassword() {
        return ADMIN;
    }
}
