package io.dlm4j.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** A borrowed connection as the dialects use it: statements carry the operation's timeout, where the driver cancels cheaply. */
final class Sql {

    private final Connection connection;
    private final int timeoutSeconds;

    Sql(Connection connection, int timeoutSeconds) {
        this.connection = connection;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** {@code sql} prepared with the statement timeout; the caller closes it. */
    PreparedStatement prepare(String sql) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        if (timeoutSeconds > 0) {
            statement.setQueryTimeout(timeoutSeconds);
        }
        return statement;
    }

    /** Binds {@code values} in order: strings, longs. */
    PreparedStatement prepare(String sql, Object... values) throws SQLException {
        PreparedStatement statement = prepare(sql);
        try {
            for (int i = 0; i < values.length; i++) {
                if (values[i] instanceof Long number) {
                    statement.setLong(i + 1, number);
                } else {
                    statement.setString(i + 1, (String) values[i]);
                }
            }
            return statement;
        } catch (SQLException | RuntimeException e) {
            statement.close();
            throw e;
        }
    }

    /** Runs an UPDATE (or DDL) and returns its count. */
    int update(String sql, Object... values) throws SQLException {
        try (PreparedStatement statement = prepare(sql, values)) {
            return statement.executeUpdate();
        }
    }

    Connection connection() {
        return connection;
    }
}
