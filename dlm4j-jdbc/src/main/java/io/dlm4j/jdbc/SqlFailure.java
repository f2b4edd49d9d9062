package io.dlm4j.jdbc;

import java.sql.SQLException;

/**
 * A driver's {@link SQLException} as the engine's wrapping shows it: the SQLState and the message
 * of each exception in the chain, since pools put the reason a connection failed in the cause
 * ("request timed out" caused by "password authentication failed"). Driver messages carry user
 * names, hosts and statements, never passwords.
 */
final class SqlFailure extends RuntimeException {

    SqlFailure(SQLException e) {
        super(describe(e), e);
    }

    static String describe(SQLException e) {
        StringBuilder text = new StringBuilder();
        Throwable current = e;
        for (int depth = 0; current != null && depth < 5; depth++) {
            if (depth > 0) {
                text.append("; caused by: ");
            }
            if (current instanceof SQLException sql && sql.getSQLState() != null) {
                text.append('[').append(sql.getSQLState()).append("] ");
            }
            text.append(current.getMessage());
            Throwable next = current instanceof SQLException sql && sql.getNextException() != null
                    ? sql.getNextException() : current.getCause();
            current = next == current ? null : next;
        }
        return text.toString();
    }
}
