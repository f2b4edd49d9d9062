package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;

import java.sql.SQLException;
import java.util.List;

/**
 * H2 2.x, in memory or in a file. The acquire is one {@code MERGE … USING}: H2 locks the matched
 * row and re-checks the match condition on it, so the decision is atomic; two first inserts of a
 * key at once make one of them fail with a unique violation, which is retried. A second statement
 * reads the row back, as on MariaDB.
 */
final class H2Dialect extends Dialect {

    private final String acquire;

    H2Dialect(Table table) {
        super(table);
        String now = now();
        this.acquire = "MERGE INTO " + table + " AS l USING (SELECT CAST(? AS VARCHAR(1024)) AS k,"
                + " CAST(? AS VARCHAR(512)) AS o, CAST(? AS BIGINT) AS ttl, CAST(? AS VARCHAR(64)) AS a,"
                + " " + rememberNow() + " AS n) AS r ON l.lock_key = r.k"
                + " WHEN MATCHED AND (l.owner = r.o OR l.expires_at <= r.n) THEN UPDATE SET"
                + " token = CASE WHEN l.expires_at <= r.n THEN GREATEST(NEXT VALUE FOR " + table.sequence()
                + ", l.token + 1) ELSE l.token END,"
                + " expires_at = CASE WHEN l.expires_at <= r.n THEN r.n + r.ttl ELSE GREATEST(l.expires_at, r.n + r.ttl) END,"
                + " attempt = CASE WHEN l.expires_at <= r.n THEN r.a WHEN l.attempt = r.a THEN l.attempt ELSE NULL END,"
                + " owner = r.o"
                + " WHEN NOT MATCHED THEN INSERT (lock_key, owner, token, expires_at, attempt)"
                + " VALUES (r.k, r.o, NEXT VALUE FOR " + table.sequence() + ", r.n + r.ttl, r.a)";
    }

    @Override
    String name() {
        return "H2";
    }

    @Override
    String now() {
        return "CAST(FLOOR(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000) AS BIGINT)";
    }

    @Override
    String rememberNow() {
        return "SET(@dlm4j_now, " + now() + ")";
    }

    @Override
    String rememberedNow() {
        return "@dlm4j_now";
    }

    @Override
    List<String> ddl() {
        // H2 counts VARCHAR lengths in UTF-16 units: 512 characters outside the BMP are 1024
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + table + " ("
                        + " lock_key VARCHAR(1024) NOT NULL PRIMARY KEY,"
                        + " owner VARCHAR(512) NOT NULL,"
                        + " token BIGINT NOT NULL,"
                        + " expires_at BIGINT NOT NULL,"
                        + " attempt VARCHAR(64))",
                "CREATE SEQUENCE IF NOT EXISTS " + table.sequence());
    }

    @Override
    Acquisition acquire(Sql sql, String key, String owner, long ttlMillis, String attempt) throws SQLException {
        sql.update(acquire, key, owner, ttlMillis, attempt);
        return readBack(sql, key).map(row -> row.asAcquisitionBy(owner, attempt, ttlMillis)).orElse(null);
    }

    @Override
    boolean tableExists(Sql sql) throws SQLException {
        // unquoted identifiers are upper case in H2's catalog
        String query = "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = "
                + (schema() == null ? "CURRENT_SCHEMA" : "UPPER(?)") + " AND TABLE_NAME = UPPER(?)";
        return schema() == null ? positive(sql, query, tableName()) : positive(sql, query, schema(), tableName());
    }

    /**
     * None: H2 keeps a statement's query timeout as a setting of the session ({@code SET
     * QUERY_TIMEOUT}), which would stay on the pooled connection for the application's next
     * statements. An embedded H2 statement is bounded by H2's own {@code LOCK_TIMEOUT}.
     */
    @Override
    boolean cancelsByQueryTimeout() {
        return false;
    }

    @Override
    boolean isWorthRetrying(SQLException e) {
        return super.isWorthRetrying(e) || "23505".equals(e.getSQLState());
    }

    @Override
    boolean isMissingTable(SQLException e) {
        return e.getErrorCode() == 42102 || e.getErrorCode() == 42104 || "42S02".equals(e.getSQLState());
    }
}
