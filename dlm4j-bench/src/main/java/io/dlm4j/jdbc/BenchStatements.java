package io.dlm4j.jdbc;

import java.lang.reflect.Field;
import java.util.List;

/**
 * For dlm4j-bench only (it lives in the bench module, in this package to reach the package-private
 * dialects): the very statements dlm4j-jdbc sends to acquire and release, built by its own dialect
 * classes for another table, so that the bench's raw baseline runs the same SQL without the engine
 * and can never drift from it. Read from the dialects' fields; a rename there fails the bench at once.
 */
public final class BenchStatements {

    /** The DDL of the table and its sequence, the acquire and the release, and PostgreSQL's channel (else null). */
    public record Statements(List<String> ddl, String acquire, String release, String channel) {
    }

    private BenchStatements() {
    }

    /**
     * PostgreSQL: the acquire takes {@code (key, owner, ttlMillis, attempt, key)} and returns a row
     * whose 5th column says whether it wrote the hold; the release takes {@code (key, owner, channel)}
     * and notifies the channel in the same statement.
     */
    public static Statements postgres(String table) {
        PostgresDialect d = new PostgresDialect(new Table(table));
        return new Statements(d.ddl(), field(PostgresDialect.class, d, "acquire"), field(PostgresDialect.class, d, "release"),
                d.table.channel());
    }

    /**
     * MariaDB: the acquire ({@code INSERT … ON DUPLICATE KEY UPDATE}) takes {@code (key, owner,
     * ttlMillis, attempt)}, and changes no row when another owner holds the lock (dlm4j then reads the
     * row back in a second statement); the release takes {@code (key, owner)}.
     */
    public static Statements mariaDb(String table) {
        MariaDbDialect d = new MariaDbDialect(new Table(table));
        return new Statements(d.ddl(), field(MariaDbDialect.class, d, "acquire"), field(Dialect.class, d, "release"), null);
    }

    private static String field(Class<?> type, Object dialect, String name) {
        try {
            Field f = type.getDeclaredField(name);
            f.setAccessible(true);
            return (String) f.get(dialect);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("dlm4j-jdbc's " + type.getSimpleName() + " has no statement field '" + name
                    + "' any more: update BenchStatements", e);
        }
    }
}
