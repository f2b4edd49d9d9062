package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * PostgreSQL 12+: each operation is one statement. The acquire is an {@code INSERT … ON CONFLICT DO
 * UPDATE … WHERE … RETURNING}: the row lock of the conflict makes the decision atomic, and a busy
 * lock is a conflict whose update does not apply, never a unique violation in the server's log.
 * A release and an undo notify the table's channel in the same statement, so waiters hear of it
 * when it commits.
 */
final class PostgresDialect extends Dialect {

    private final String acquire;
    private final String refresh;
    private final String release;
    private final String undo;

    PostgresDialect(Table table) {
        super(table);
        String now = now();
        String takeover = "l.expires_at <= " + now;
        // ON CONFLICT's SET sees the old row throughout, so each column decides on what was stored
        this.acquire = "WITH tried AS ("
                + " INSERT INTO " + table + " AS l (lock_key, owner, token, expires_at, attempt)"
                + " VALUES (?, ?, nextval('" + table.sequence() + "'), " + now + " + ?, ?)"
                + " ON CONFLICT (lock_key) DO UPDATE SET"
                + " token = CASE WHEN " + takeover + " THEN GREATEST(EXCLUDED.token, l.token + 1) ELSE l.token END,"
                + " expires_at = CASE WHEN " + takeover + " THEN EXCLUDED.expires_at"
                + " ELSE GREATEST(l.expires_at, EXCLUDED.expires_at) END,"
                // a relock clears the mark, except a retry of the very attempt that made the hold
                + " attempt = CASE WHEN " + takeover + " THEN EXCLUDED.attempt"
                + " WHEN l.attempt = EXCLUDED.attempt THEN l.attempt ELSE NULL END,"
                + " owner = EXCLUDED.owner"
                + " WHERE l.owner = EXCLUDED.owner OR " + takeover
                + " RETURNING owner, token, expires_at - " + now + " AS remaining, attempt)"
                + " SELECT owner, token, remaining, attempt, true FROM tried"
                + " UNION ALL"
                // busy: the holder as the statement's snapshot has it; empty or stale means try again
                + " SELECT owner, token, expires_at - " + now + ", attempt, false FROM " + table
                + " WHERE lock_key = ? AND NOT EXISTS (SELECT 1 FROM tried)";
        this.refresh = "UPDATE " + table + " SET expires_at = GREATEST(expires_at, " + now + " + ?), attempt = NULL"
                + " WHERE lock_key = ? AND owner = ? AND expires_at > " + now + " RETURNING expires_at - " + now;
        String free = "UPDATE " + table + " SET expires_at = 0, attempt = NULL"
                + " WHERE lock_key = ? AND owner = ? AND expires_at > " + now;
        this.release = "WITH freed AS (" + free + " RETURNING lock_key) SELECT pg_notify(?, lock_key) FROM freed";
        this.undo = "WITH freed AS (" + free + " AND attempt = ? RETURNING lock_key) SELECT pg_notify(?, lock_key) FROM freed";
    }

    @Override
    String name() {
        return "PostgreSQL";
    }

    @Override
    String now() {
        // truncated, as a stored expiry is: rounding up could make a hold end before now + ttl
        return "floor(extract(epoch from now()) * 1000)::bigint";
    }

    @Override
    List<String> ddl() {
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + table + " ("
                        + " lock_key TEXT COLLATE \"C\" NOT NULL PRIMARY KEY,"
                        + " owner TEXT COLLATE \"C\" NOT NULL,"
                        + " token BIGINT NOT NULL,"
                        + " expires_at BIGINT NOT NULL,"
                        + " attempt TEXT)",
                "CREATE SEQUENCE IF NOT EXISTS " + table.sequence());
    }

    @Override
    Acquisition acquire(Sql sql, String key, String owner, long ttlMillis, String attempt) throws SQLException {
        String stored = encode(key);
        try (PreparedStatement statement = sql.prepare(acquire, stored, encode(owner), ttlMillis, attempt, stored);
             ResultSet rows = statement.executeQuery()) {
            if (!rows.next()) {
                return null;
            }
            StoredRow row = StoredRow.from(rows, this);
            boolean written = rows.getBoolean(5);
            if (!written && row.owner().equals(owner)) {
                return null; // the snapshot predates the row that refused us: look again
            }
            return row.asAcquisitionBy(owner, attempt, ttlMillis);
        }
    }

    @Override
    Optional<Duration> refresh(Sql sql, String key, String owner, long ttlMillis) throws SQLException {
        try (PreparedStatement statement = sql.prepare(refresh, ttlMillis, encode(key), encode(owner));
             ResultSet rows = statement.executeQuery()) {
            return rows.next() ? Optional.of(Duration.ofMillis(rows.getLong(1))) : Optional.empty();
        }
    }

    @Override
    boolean release(Sql sql, String key, String owner) throws SQLException {
        return rowsOf(sql.prepare(release, encode(key), encode(owner), table.channel()));
    }

    @Override
    boolean undo(Sql sql, String key, String owner, String attempt) throws SQLException {
        return rowsOf(sql.prepare(undo, encode(key), encode(owner), attempt, table.channel()));
    }

    private static boolean rowsOf(PreparedStatement statement) throws SQLException {
        try (statement; ResultSet rows = statement.executeQuery()) {
            return rows.next();
        }
    }

    /** NUL cannot be stored in PostgreSQL text: it and the escape character are escaped, one to one. */
    @Override
    String encode(String text) {
        if (text == null || (text.indexOf('\0') < 0 && text.indexOf('\\') < 0)) {
            return text;
        }
        return text.replace("\\", "\\\\").replace("\0", "\\0");
    }

    @Override
    String decode(String stored) {
        if (stored == null || stored.indexOf('\\') < 0) {
            return stored;
        }
        StringBuilder text = new StringBuilder(stored.length());
        for (int i = 0; i < stored.length(); i++) {
            char c = stored.charAt(i);
            if (c == '\\' && i + 1 < stored.length()) {
                char next = stored.charAt(++i);
                text.append(next == '0' ? '\0' : next);
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }

    @Override
    boolean tableExists(Sql sql) throws SQLException {
        return positive(sql, "SELECT CASE WHEN to_regclass(?) IS NULL THEN 0 ELSE 1 END", table.name());
    }

    @Override
    void lockForDdl(Sql sql) throws SQLException {
        try (PreparedStatement statement = sql.prepare("SELECT pg_advisory_xact_lock(hashtext(?))", "dlm4j:" + table);
             ResultSet ignored = statement.executeQuery()) {
            // held until the DDL's transaction ends
        }
    }

    @Override
    boolean cancelsByQueryTimeout() {
        return false;
    }

    @Override
    boolean isMissingTable(SQLException e) {
        return "42P01".equals(e.getSQLState());
    }
}
