package io.dlm4j.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Makes sure the lock table is there with the columns the statements need, before the first
 * operation: creates it (with its sequence) when asked to, and otherwise fails with the DDL to
 * run, or with the column that is wrong. DDL runs only when the table is missing, so a Dlm of a
 * user who may only read and write rows starts on a table an operator created.
 */
final class TableCheck {

    private static final Set<Integer> TEXT = Set.of(Types.VARCHAR, Types.LONGVARCHAR, Types.NVARCHAR,
            Types.LONGNVARCHAR, Types.CLOB);
    private static final Map<String, Set<Integer>> COLUMNS = Map.of(
            "lock_key", TEXT, "owner", TEXT, "attempt", TEXT,
            "token", Set.of(Types.BIGINT), "expires_at", Set.of(Types.BIGINT));

    private TableCheck() {
    }

    /**
     * Asks the catalog whether the table exists rather than selecting from it: a select from a
     * missing table is an error in the server's log, at every first start of every instance.
     */
    static void ensure(Sql sql, Dialect dialect, boolean createTable) throws SQLException {
        if (!dialect.tableExists(sql)) {
            if (!createTable) {
                throw new IllegalStateException("the lock table " + dialect.table + " does not exist, and createTable is"
                        + " false; create it with:\n" + String.join(";\n", dialect.ddl()) + ";");
            }
            createTable(sql, dialect);
        }
        checkColumns(sql, dialect);
    }

    /**
     * Runs the DDL in one transaction behind the dialect's lock for it: many instances start at
     * once, and on PostgreSQL two concurrent {@code CREATE TABLE IF NOT EXISTS} can both miss the
     * table and one then fails on the catalog's unique index (an error in the server's log).
     */
    private static void createTable(Sql sql, Dialect dialect) throws SQLException {
        java.sql.Connection connection = sql.connection();
        connection.setAutoCommit(false);
        try {
            dialect.lockForDdl(sql);
            for (String statement : dialect.ddl()) {
                sql.update(statement);
            }
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private static void checkColumns(Sql sql, Dialect dialect) throws SQLException {
        Map<String, Integer> found = new HashMap<>();
        Map<String, String> typeNames = new HashMap<>();
        try (PreparedStatement statement = sql.prepare("SELECT * FROM " + dialect.table + " WHERE 1 = 0");
             ResultSet rows = statement.executeQuery()) {
            ResultSetMetaData columns = rows.getMetaData();
            for (int i = 1; i <= columns.getColumnCount(); i++) {
                String name = columns.getColumnName(i).toLowerCase(Locale.ROOT);
                found.put(name, columns.getColumnType(i));
                typeNames.put(name, columns.getColumnTypeName(i));
            }
        }
        for (Map.Entry<String, Set<Integer>> column : COLUMNS.entrySet()) {
            String name = column.getKey();
            Integer type = found.get(name);
            if (type == null) {
                throw wrongSchema(dialect, "has no column " + name);
            }
            String typeName = typeNames.get(name).toUpperCase(Locale.ROOT);
            if (!column.getValue().contains(type) || typeName.contains("IGNORECASE")) {
                throw wrongSchema(dialect, "has the column " + name + " of type " + typeNames.get(name) + ", but it must be "
                        + (column.getValue().contains(Types.BIGINT) ? "BIGINT" : "a text type that compares exactly (VARCHAR or TEXT)"));
            }
        }
        String problem = dialect.columnProblem(sql);
        if (problem != null) {
            throw wrongSchema(dialect, problem);
        }
    }

    private static IllegalStateException wrongSchema(Dialect dialect, String problem) {
        return new IllegalStateException("the lock table " + dialect.table + " " + problem + "; dlm4j's table is:\n"
                + String.join(";\n", dialect.ddl()) + ";");
    }
}
