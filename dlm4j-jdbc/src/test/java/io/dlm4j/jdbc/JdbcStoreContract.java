package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * What the JDBC store promises beyond the conformance suite, on each database: the table's
 * checks and errors, exact keys, tokens that survive deleted rows, the store's own transactions
 * and isolation, pool limits and credentials. A database's test class says how to reach it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
abstract class JdbcStoreContract {

    private static final String SECRET = "not-the-password-" + UUID.randomUUID();

    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();
    private HikariDataSource admin;

    /** The database under test; started (or shared) before the first test. */
    abstract TestDatabase database();

    @BeforeAll
    void openAdminPool() {
        admin = database().pool(config -> config.setMaximumPoolSize(16));
    }

    @AfterAll
    void closeAdminPool() {
        admin.close();
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = closeAfterTest.size() - 1; i >= 0; i--) {
            closeAfterTest.get(i).close();
        }
        closeAfterTest.clear();
    }

    private <T extends AutoCloseable> T closed(T resource) {
        closeAfterTest.add(resource);
        return resource;
    }

    private static String unique(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    private static DlmOptions options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).defaultTtl(Duration.ofSeconds(30))
                .operationTimeout(Duration.ofSeconds(3)).build();
    }

    private Dlm dlm(String table, String owner) {
        return closed(JdbcDlm.builder(admin).table(table).options(options(owner)).build());
    }

    @Test
    void aMissingTableWithoutCreateTableFailsWithTheDdlToRun() {
        String table = unique("missing");
        Dlm dlm = closed(JdbcDlm.builder(admin).table(table).createTable(false).options(options("a")).build());

        assertThatThrownBy(() -> dlm.newMutex("k").tryLock())
                .isInstanceOf(LockBackendException.class)
                .hasMessageContaining(database().name())
                .hasMessageContaining("the lock table " + table + " does not exist")
                .hasMessageContaining("CREATE TABLE IF NOT EXISTS " + table + " (")
                .hasMessageContaining("CREATE SEQUENCE IF NOT EXISTS " + table + "_token");
    }

    @Test
    void aTableWithAWrongColumnFailsNamingTheColumn() {
        String wrongType = unique("wrong");
        database().execute(admin, "CREATE TABLE " + wrongType + " (lock_key VARCHAR(512) NOT NULL PRIMARY KEY,"
                + " owner VARCHAR(256) NOT NULL, token BIGINT NOT NULL, expires_at VARCHAR(40) NOT NULL, attempt VARCHAR(64))");
        assertThatThrownBy(() -> dlm(wrongType, "a").newMutex("k").tryLock())
                .isInstanceOf(LockBackendException.class)
                .hasMessageContaining("has the column expires_at of type")
                .hasMessageContaining("must be BIGINT");

        String missing = unique("lacking");
        database().execute(admin, "CREATE TABLE " + missing + " (lock_key VARCHAR(512) NOT NULL PRIMARY KEY,"
                + " owner VARCHAR(256) NOT NULL, token BIGINT NOT NULL, expires_at BIGINT NOT NULL)");
        assertThatThrownBy(() -> dlm(missing, "a").newMutex("k").tryLock())
                .isInstanceOf(LockBackendException.class)
                .hasMessageContaining("has no column attempt");
    }

    @Test
    void aDroppedTableFailsEveryOperationClearly() throws Exception {
        String table = unique("dropped");
        Dlm dlm = dlm(table, "a");
        dlm.newMutex("k").tryLock().orElseThrow().close();
        database().execute(admin, "DROP TABLE " + table);

        assertThatThrownBy(() -> dlm.newMutex("k").tryLock())
                .isInstanceOf(LockBackendException.class)
                .hasMessageContaining("the lock table " + table + " or its sequence is gone");
    }

    @Test
    void keysCompareExactly() {
        String table = unique("exact");
        List<String> keys = List.of("Key", "key", "KEY", "cafe", "café", "cafe\u0301", "k", "k ", "k\t", "straße", "strasse",
                "k\u0000", "k\\0", "k\\");
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            Optional<Lease> lease = dlm(table, "owner-" + i).newMutex(keys.get(i)).tryLock();
            assertThat(lease).as("key %s is a lock of its own", escaped(keys.get(i))).isPresent();
            leases.add(closed(lease.get()));
        }
        Dlm other = dlm(table, "other");
        for (int i = 0; i < keys.size(); i++) {
            LockInfo holder = other.newMutex(keys.get(i)).holder().orElseThrow();
            assertThat(holder.owner()).as("holder of %s", escaped(keys.get(i))).isEqualTo("owner-" + i);
            assertThat(holder.key()).isEqualTo(keys.get(i));
        }

        String longest = "\uD83D\uDE00".repeat(512); // 512 characters of 4 bytes each
        Lease lease = closed(dlm(table, "long").newMutex(longest).tryLock().orElseThrow());
        assertThat(other.newMutex(longest).holder()).map(LockInfo::owner).contains("long");
        assertThat(lease.key()).isEqualTo(longest);
    }

    private static String escaped(String key) {
        return key.replace("\0", "\\u0000").replace("\t", "\\t");
    }

    @Test
    void tokensRiseAfterTheRowsAreDeleted() throws Exception {
        String table = unique("fence");
        Dlm dlm = dlm(table, "a");
        Mutex mutex = dlm.newMutex("k");
        long first;
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            first = lease.fencingToken();
        }
        assertThat(database().queryLong(admin, "SELECT COUNT(*) FROM " + table + " WHERE lock_key = 'k'"))
                .as("a release keeps the row").isEqualTo(1);
        database().execute(admin, "DELETE FROM " + table);
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            assertThat(lease.fencingToken()).as("token after the rows were deleted").isGreaterThan(first);
        }
    }

    @Test
    void aLockTakenInsideARolledBackTransactionStaysTaken() throws Exception {
        String table = unique("tx");
        Dlm dlm = dlm(table, "a");
        Dlm other = dlm(table, "b");
        dlm.newMutex("warm-up").tryLock().orElseThrow().close();
        try (Connection transaction = admin.getConnection()) {
            transaction.setAutoCommit(false);
            database().execute(admin, "SELECT 1 FROM " + table + " WHERE 1 = 0");
            closed(dlm.newMutex("k").tryLock().orElseThrow());
            transaction.rollback();
        }
        assertThat(other.newMutex("k").tryLock()).as("another owner after the rollback").isEmpty();
    }

    @Test
    void aPoolWhoseDefaultIsSerializableStillExcludes() throws Exception {
        HikariDataSource serializable = closed(database().pool(config -> {
            config.setTransactionIsolation("TRANSACTION_SERIALIZABLE");
            config.setMaximumPoolSize(8);
        }));
        String table = unique("serial");
        JdbcDlm.builder(admin).table(table).options(options("setup")).build().close();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger acquired = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Dlm dlm = closed(JdbcDlm.builder(serializable).table(table).options(options("owner-" + t)).build());
                done.add(threads.submit((Callable<Void>) () -> {
                    for (int i = 0; i < 40; i++) {
                        Optional<Lease> lease = dlm.newMutex("contended").tryLock();
                        if (lease.isPresent()) {
                            acquired.incrementAndGet();
                            if (inside.incrementAndGet() > 1) {
                                overlaps.incrementAndGet();
                            }
                            inside.decrementAndGet();
                            lease.get().close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(90, TimeUnit.SECONDS); // rethrows a serialization failure, if any got through
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(overlaps).as("two holders at once").hasValue(0);
        assertThat(acquired.get()).as("acquisitions").isPositive();
    }

    @Test
    void anExhaustedPoolFailsWithinItsTimeout() throws Exception {
        HikariDataSource tiny = closed(database().pool(config -> {
            config.setMaximumPoolSize(1);
            config.setConnectionTimeout(500);
        }));
        String table = unique("exhausted");
        Dlm dlm = closed(JdbcDlm.builder(tiny).table(table).options(options("a")).build());
        dlm.newMutex("k").tryLock().orElseThrow().close();
        try (Connection taken = tiny.getConnection()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> dlm.newMutex("k").tryLock())
                    .isInstanceOf(LockBackendException.class)
                    .hasMessageContaining(database().name());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aWrongPasswordFailsWithoutShowingIt() {
        DlmOptions quick = DlmOptions.builder().defaultOwner("a").operationTimeout(Duration.ofSeconds(2)).build();
        Dlm dlm = closed(Dlms.fromUri(database().urlAs(userWithPassword(), SECRET), quick));

        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> dlm.newMutex("k").tryLock());
        assertThat(thrown).isInstanceOf(LockBackendException.class).hasMessageContaining(database().nameInUrl());
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("message of %s", t.getClass().getName()).doesNotContain(SECRET);
            assertThat(t.toString()).doesNotContain(SECRET);
        }
        assertThat(dlm.toString()).doesNotContain(SECRET);
    }

    /** A user that exists with another password than {@link #SECRET}. */
    abstract String userWithPassword();

    @Test
    void aReadOnlyUserFailsWithTheDatabasesReason() {
        String table = unique("readonly");
        dlm(table, "setup").newMutex("warm-up").tryLock().orElseThrow().close();
        String user = unique("reader");
        database().createReadOnlyUser(user, "reader-password");
        DlmOptions quick = DlmOptions.builder().defaultOwner("a").operationTimeout(Duration.ofSeconds(3)).build();
        HikariDataSource reader = closed(database().pool(config -> {
            config.setJdbcUrl(database().urlAs(user, "reader-password"));
        }));
        Dlm dlm = closed(JdbcDlm.builder(reader).table(table).options(quick).build());

        assertThatThrownBy(() -> dlm.newMutex("k").tryLock())
                .isInstanceOf(LockBackendException.class)
                .hasMessageContaining(database().name())
                .satisfies(e -> assertThat(e.getMessage().toLowerCase()).containsAnyOf("denied", "rights", "permission"));
        assertThat(dlm.newMutex("warm-up").holder()).as("reading still works").isEmpty();
    }

    @Test
    void aClientClockAnHourAheadNeitherStealsNorWaitsAnHour() throws Exception {
        String table = unique("clock");
        Dlm holder = dlm(table, "holder");
        Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));
        Dlm skewed = closed(JdbcDlm.builder(admin).table(table).options(DlmOptions.builder().defaultOwner("skewed")
                .clock(ahead).operationTimeout(Duration.ofSeconds(3)).build()).build());

        closed(holder.newMutex("k", Duration.ofSeconds(2)).tryLock().orElseThrow());
        assertThat(skewed.newMutex("k").tryLock()).as("a live hold, by the database's clock").isEmpty();
        LockInfo seen = skewed.newMutex("k").holder().orElseThrow();
        assertThat(seen.expiresAt()).as("the holder's expiry on the skewed client's clock")
                .isCloseTo(ahead.instant().plusSeconds(2), within(1500, java.time.temporal.ChronoUnit.MILLIS));

        long start = System.nanoTime();
        Lease lease = closed(skewed.newMutex("k").lock(Duration.ofSeconds(20)));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("wait for a hold with 2 s left")
                .isLessThan(Duration.ofSeconds(6));
        assertThat(lease.expiresAt()).isAfter(ahead.instant());
        assertThat(Instant.now()).isBefore(ahead.instant());
    }
}
