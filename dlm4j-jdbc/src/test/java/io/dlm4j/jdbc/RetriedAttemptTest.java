package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.LockStore;
import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testkit.WithPostgres;
import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An acquire whose commit landed but whose reply was lost runs again with the same attempt (the
 * store's retry of a lost connection): the second run must still say ACQUIRED and keep the mark,
 * so that the engine's undo of that attempt can end the hold. A relock by another attempt of the
 * owner clears the mark, and the undo then leaves the hold alone.
 */
@WithPostgres
@WithMariaDb
class RetriedAttemptTest {

    private static void check(javax.sql.DataSource source) {
        try (JdbcLockStore store = new JdbcLockStore(source, new Table("dlm4j_locks"), true, source,
                Duration.ofSeconds(5), null, null)) {
            String key = "retried-" + UUID.randomUUID();
            Acquisition first = store.acquire(key, "a", Duration.ofSeconds(30), "attempt-1");
            Acquisition again = store.acquire(key, "a", Duration.ofSeconds(30), "attempt-1");
            assertThat(first.outcome()).isEqualTo(Acquisition.Outcome.ACQUIRED);
            assertThat(again.outcome()).as("the same attempt, run again").isEqualTo(Acquisition.Outcome.ACQUIRED);
            assertThat(again.hold().fencingToken()).isEqualTo(first.hold().fencingToken());
            assertThat(store.undoAcquire(key, "a", "attempt-1")).isEqualTo(LockStore.Undo.RELEASED);
            assertThat(store.read(key)).isEmpty();

            String other = "relocked-" + UUID.randomUUID();
            store.acquire(other, "a", Duration.ofSeconds(30), "attempt-2");
            assertThat(store.acquire(other, "a", Duration.ofSeconds(30), "attempt-3").outcome())
                    .isEqualTo(Acquisition.Outcome.REFRESHED);
            assertThat(store.undoAcquire(other, "a", "attempt-2")).as("a hold another attempt touched since")
                    .isEqualTo(LockStore.Undo.NOTHING_TO_UNDO);
            assertThat(store.read(other)).isPresent();
        }
    }

    @Test
    void onPostgresql(PostgresServer server) {
        try (HikariDataSource pool = PostgresConformanceTest.pool(server)) {
            check(pool);
        }
    }

    @Test
    void onMariaDb(MariaDbServer server) {
        try (HikariDataSource pool = MariaDbConformanceTest.pool(server, MariaDbTestDatabase.Driver.MARIADB)) {
            check(pool);
        }
    }

    @Test
    void onH2() {
        try (HikariDataSource pool = new H2StoreTest().database().pool(config -> { })) {
            check(pool);
        }
    }
}
