package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * MariaDB 10.6+ (through MariaDB Connector/J or MySQL Connector/J). The acquire is one
 * {@code INSERT … ON DUPLICATE KEY UPDATE}: InnoDB locks the existing row and computes the update
 * on it, so the decision is atomic, and a busy lock is an update that changes nothing, never a
 * duplicate-key error. MariaDB has no {@code RETURNING} for it, so a second statement reads the
 * row back; the attempt mark in the row says whether this call made the hold.
 *
 * <p>ODKU assigns its columns left to right, each seeing the columns already assigned: the order
 * below is what keeps each decision on the stored values ({@code token} and {@code attempt} before
 * {@code owner}, {@code owner} before {@code expires_at}, which is last because every other
 * column asks whether the stored hold had expired).
 *
 * <p>Keys and owners compare with {@code utf8mb4_nopad_bin}: the default collations ignore case,
 * accents and trailing spaces, and {@code utf8mb4_bin} still ignores trailing spaces.
 */
final class MariaDbDialect extends Dialect {

    static final String EXACT_COLLATION = "utf8mb4_nopad_bin";

    private final String acquire;

    MariaDbDialect(Table table) {
        super(table);
        String now = now();
        String expired = "expires_at <= " + now;
        this.acquire = "INSERT INTO " + table + " (lock_key, owner, token, expires_at, attempt)"
                + " VALUES (?, ?, NEXTVAL(" + table.sequence() + "), " + rememberNow() + " + ?, ?)"
                + " ON DUPLICATE KEY UPDATE"
                + " token = IF(" + expired + ", GREATEST(VALUES(token), token + 1), token),"
                // a relock clears the mark, except a retry of the very attempt that made the hold
                + " attempt = IF(" + expired + ", VALUES(attempt), IF(owner = VALUES(owner),"
                + " IF(attempt <=> VALUES(attempt), attempt, NULL), attempt)),"
                + " owner = IF(" + expired + ", VALUES(owner), owner),"
                + " expires_at = IF(" + expired + ", VALUES(expires_at),"
                + " IF(owner = VALUES(owner), GREATEST(expires_at, VALUES(expires_at)), expires_at))";
    }

    @Override
    String name() {
        return "MariaDB";
    }

    @Override
    String now() {
        // UTC_TIMESTAMP is no local time, so no daylight-saving hour is ambiguous; NOW() would be
        return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";
    }

    @Override
    String rememberNow() {
        return "(@dlm4j_now := " + now() + ")";
    }

    @Override
    String rememberedNow() {
        return "@dlm4j_now";
    }

    @Override
    List<String> ddl() {
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + table + " ("
                        + " lock_key VARCHAR(512) CHARACTER SET utf8mb4 COLLATE " + EXACT_COLLATION + " NOT NULL PRIMARY KEY,"
                        + " owner VARCHAR(256) CHARACTER SET utf8mb4 COLLATE " + EXACT_COLLATION + " NOT NULL,"
                        + " token BIGINT NOT NULL,"
                        + " expires_at BIGINT NOT NULL,"
                        + " attempt VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin"
                        + ") ENGINE=InnoDB",
                "CREATE SEQUENCE IF NOT EXISTS " + table.sequence());
    }

    @Override
    Acquisition acquire(Sql sql, String key, String owner, long ttlMillis, String attempt) throws SQLException {
        sql.update(acquire, key, owner, ttlMillis, attempt);
        return readBack(sql, key).map(row -> row.asAcquisitionBy(owner, attempt, ttlMillis)).orElse(null);
    }

    @Override
    boolean isMissingTable(SQLException e) {
        return e.getErrorCode() == 1146 || "42S02".equals(e.getSQLState());
    }

    @Override
    boolean tableExists(Sql sql) throws SQLException {
        String query = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                + (schema() == null ? "DATABASE()" : "?") + " AND TABLE_NAME = ?";
        return schema() == null ? positive(sql, query, tableName()) : positive(sql, query, schema(), tableName());
    }

    /** A key or owner column that merges different names: a collation other than an exact one. */
    @Override
    String columnProblem(Sql sql) throws SQLException {
        String schema = schema();
        String name = tableName();
        String query = "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                + (schema == null ? "DATABASE()" : "?") + " AND TABLE_NAME = ? AND COLUMN_NAME IN ('lock_key', 'owner')";
        try (PreparedStatement statement = schema == null ? sql.prepare(query, name) : sql.prepare(query, schema, name);
             ResultSet rows = statement.executeQuery()) {
            while (rows.next()) {
                String collation = rows.getString(2);
                if (collation != null && !collation.endsWith("_nopad_bin") && !collation.equals("binary")) {
                    return "column " + rows.getString(1) + " has the collation " + collation
                            + ", which treats different names as one (case, accents or trailing spaces); it must be "
                            + EXACT_COLLATION;
                }
            }
        }
        return null;
    }
}
