package io.dlm4j.jdbc;

import io.dlm4j.spi.Redacted;

import java.sql.SQLException;
import java.util.Set;

/**
 * A driver's {@link SQLException} as the engine's wrapping shows it: the SQLState and the message
 * of each exception in the chain, since pools put the reason a connection failed in the cause
 * ("request timed out" caused by "password authentication failed"). Driver messages carry user
 * names, hosts and statements, and sometimes what they could not parse of a URL, a password with it:
 * a Dlm made from a URL hides that URL's passwords in every message.
 */
final class SqlFailure extends RuntimeException {

    SqlFailure(SQLException e, Set<String> secrets) {
        super(describe(e, secrets), withoutSecrets(e, secrets));
    }

    /**
     * {@code e} itself if no message of its chain shows a secret; else a copy of the chain whose
     * messages hide them, with the same SQLStates, error codes and stack traces.
     */
    static Throwable withoutSecrets(Throwable e, Set<String> secrets) {
        if (e == null || secrets.isEmpty() || !showsSecret(e, secrets)) {
            return e;
        }
        SQLException copy = new SQLException(Redacted.hide(e.getMessage(), secrets),
                e instanceof SQLException sql ? sql.getSQLState() : null,
                e instanceof SQLException sql ? sql.getErrorCode() : 0,
                withoutSecrets(e.getCause() == e ? null : e.getCause(), secrets));
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }

    private static boolean showsSecret(Throwable e, Set<String> secrets) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String shown = String.valueOf(t.getMessage()) + t;
            for (String secret : secrets) {
                if (shown.contains(secret)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@link #describe(SQLException)} with each of {@code secrets} as {@code ***}. */
    static String describe(SQLException e, Set<String> secrets) {
        return Redacted.hide(describe(e), secrets);
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
