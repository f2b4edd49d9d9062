package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.StoredHold;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One database's statements on the lock table. Every time in them is the database's: {@link #now()}
 * is its clock in milliseconds since the epoch, computed in the statement, and a hold is live while
 * {@code expires_at > now}. A row is never deleted: a release sets {@code expires_at} to 0 and keeps
 * the row, so the next hold on the key is one statement, and the token of every new hold is at least
 * one more than the row's last ({@code GREATEST(next value, token + 1)}), whatever the sequence did.
 *
 * <p>The statements shared by the dialects are here; a dialect writes its acquire (the one
 * statement that decides who holds a key) and whatever its SQL does better.
 */
abstract class Dialect {

    /** The attempt mark of a released or relocked hold: nothing to undo. */
    static final String NO_ATTEMPT = null;

    final Table table;
    private final String refresh;
    private final String release;
    private final String undo;
    private final String read;
    private final String readBack;

    Dialect(Table table) {
        this.table = table;
        String now = now();
        this.refresh = "UPDATE " + table + " SET expires_at = GREATEST(expires_at, " + rememberNow() + " + ?), attempt = NULL"
                + " WHERE lock_key = ? AND owner = ? AND expires_at > " + now;
        this.release = "UPDATE " + table + " SET expires_at = 0, attempt = NULL"
                + " WHERE lock_key = ? AND owner = ? AND expires_at > " + now;
        this.undo = release + " AND attempt = ?";
        this.read = "SELECT owner, token, expires_at - " + now + ", attempt FROM " + table + " WHERE lock_key = ?";
        this.readBack = "SELECT owner, token, expires_at - " + rememberedNow() + ", attempt FROM " + table
                + " WHERE lock_key = ?";
    }

    /**
     * {@link #now()}, remembered in the session for {@link #rememberedNow()}: where a decision is read
     * back by a second statement, the time left is counted from the decision's clock, not from the
     * read's, which has moved on. Counted from a time no earlier than the request, it is never more
     * than the hold really has, also if the row changed in between.
     */
    String rememberNow() {
        return now();
    }

    /** The time {@link #rememberNow()} saved, in the same session. */
    String rememberedNow() {
        return now();
    }

    /** The database's name in messages: "PostgreSQL". */
    abstract String name();

    /** SQL for the database's time now, in milliseconds since the epoch, free of any time zone. */
    abstract String now();

    /** The statements that create the table and its sequence, each safe to run again. */
    abstract List<String> ddl();

    /**
     * Takes, relocks or reports the lock in one decision of the database, and returns the row it
     * left, judged by {@link StoredRow#asAcquisitionBy}; null when the caller should try again.
     */
    abstract Acquisition acquire(Sql sql, String key, String owner, long ttlMillis, String attempt) throws SQLException;

    /** Text as the database stores it (PostgreSQL cannot store NUL). */
    String encode(String text) {
        return text;
    }

    /** The reverse of {@link #encode}. */
    String decode(String stored) {
        return stored;
    }

    /**
     * Extends the owner's live hold, never shortening it. The count says whether the owner held
     * it; the time left is read back (a second statement: only PostgreSQL returns it from the
     * update), counted from the update's clock.
     */
    Optional<Duration> refresh(Sql sql, String key, String owner, long ttlMillis) throws SQLException {
        if (sql.update(refresh, ttlMillis, encode(key), encode(owner)) == 0) {
            return Optional.empty();
        }
        return readBack(sql, key).filter(row -> row.isLive() && row.owner().equals(owner))
                .map(row -> Duration.ofMillis(row.remainingMillis()));
    }

    boolean release(Sql sql, String key, String owner) throws SQLException {
        return sql.update(release, encode(key), encode(owner)) > 0;
    }

    boolean undo(Sql sql, String key, String owner, String attempt) throws SQLException {
        return sql.update(undo, encode(key), encode(owner), attempt) > 0;
    }

    Optional<StoredHold> read(Sql sql, String key) throws SQLException {
        return row(sql, key).filter(StoredRow::isLive).map(StoredRow::hold);
    }

    /** The key's row after a decision of this session, its time left counted from the decision's clock. */
    Optional<StoredRow> readBack(Sql sql, String key) throws SQLException {
        try (PreparedStatement statement = sql.prepare(readBack, encode(key)); ResultSet rows = statement.executeQuery()) {
            return rows.next() ? Optional.of(StoredRow.from(rows, this)) : Optional.empty();
        }
    }

    /** The key's row as it is now, live or not. */
    Optional<StoredRow> row(Sql sql, String key) throws SQLException {
        try (PreparedStatement statement = sql.prepare(read, encode(key)); ResultSet rows = statement.executeQuery()) {
            return rows.next() ? Optional.of(StoredRow.from(rows, this)) : Optional.empty();
        }
    }

    /**
     * Whether the statement failed as a whole and may simply run again: a serialization failure or
     * deadlock (SQLState class 40), or a unique violation of two concurrent first inserts where the
     * dialect's upsert can raise one.
     */
    boolean isWorthRetrying(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("40") || isLostConnection(e);
    }

    /**
     * A connection that was already gone when the statement was sent (SQLState class 08, or
     * PostgreSQL's 57P01 "terminating connection due to administrator command"): a timeout is not
     * one of them, since the time is spent.
     */
    static boolean isLostConnection(SQLException e) {
        if (e instanceof java.sql.SQLTimeoutException) {
            return false;
        }
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.equals("57P01"));
    }

    /** Whether the lock table exists, asked of the catalog (no error in the server's log when it does not). */
    abstract boolean tableExists(Sql sql) throws SQLException;

    /** Runs a query whose first column of its one row is a count or boolean; true if it is positive. */
    static boolean positive(Sql sql, String query, Object... values) throws SQLException {
        try (PreparedStatement statement = sql.prepare(query, values); ResultSet rows = statement.executeQuery()) {
            return rows.next() && rows.getLong(1) > 0;
        }
    }

    /** The schema part of a qualified table name, or null. */
    String schema() {
        int dot = table.name().indexOf('.');
        return dot < 0 ? null : table.name().substring(0, dot);
    }

    /** The table part of a qualified table name. */
    String tableName() {
        return table.name().substring(table.name().indexOf('.') + 1);
    }

    /** Serializes the creation of the table among instances, until the DDL's transaction ends; nothing by default. */
    void lockForDdl(Sql sql) throws SQLException {
    }

    /** Whether statements carry a query timeout besides the connection's network timeout (see {@link Connections#run}). */
    boolean cancelsByQueryTimeout() {
        return true;
    }

    /** Whether {@code e} says the lock table does not exist. */
    abstract boolean isMissingTable(SQLException e);

    /** A problem with the columns that {@link TableCheck} cannot see in the result's metadata, or null. */
    String columnProblem(Sql sql) throws SQLException {
        return null;
    }
}
