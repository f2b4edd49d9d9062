package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.StoredHold;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A lock row as a statement returned it: who holds it, its token, the milliseconds it has left by
 * the database's clock (computed in the statement), and the attempt that created the hold.
 */
record StoredRow(String owner, long token, long remainingMillis, String attempt) {

    /** Reads the columns {@code owner, token, remaining, attempt}, in that order. */
    static StoredRow from(ResultSet rows, Dialect dialect) throws SQLException {
        return new StoredRow(dialect.decode(rows.getString(1)), rows.getLong(2), rows.getLong(3), rows.getString(4));
    }

    boolean isLive() {
        return remainingMillis > 0;
    }

    StoredHold hold() {
        return new StoredHold(owner, token, Duration.ofMillis(Math.max(0, remainingMillis)));
    }

    /**
     * What an acquire by {@code owner} with {@code attempt} did, judged from the row it left: a new
     * hold carries the attempt's mark, a relock cleared it; a live row of another owner is busy.
     * Null where the row does not tell (it expired or was released since), so the caller tries again.
     *
     * <p>A row still marked with the attempt was written by it and by nothing since, so it expires
     * exactly the ttl after the decision: that is the time it has left, also where the row was read
     * back by a later statement, whose clock has moved on.
     */
    Acquisition asAcquisitionBy(String owner, String attempt, long ttlMillis) {
        if (!isLive()) {
            return null;
        }
        if (this.owner.equals(owner)) {
            return attempt.equals(this.attempt)
                    ? Acquisition.acquired(new StoredHold(this.owner, token, Duration.ofMillis(ttlMillis)))
                    : Acquisition.refreshed(hold());
        }
        return Acquisition.heldBy(hold());
    }
}
