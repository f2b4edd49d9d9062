package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * MariaDB going away under a Dlm (paused, restarted), and contended locking that leaves no failed
 * statement in the server's log of failed statements (the SQL_ERROR_LOG plugin): a busy lock is
 * an upsert that changes nothing, never a duplicate-key error or a deadlock.
 */
@WithMariaDb(own = true)
class MariaDbFailureTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);

    private static MariaDbServer server;
    private static HikariDataSource pool;
    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

    @BeforeAll
    static void startServer(MariaDbServer own) {
        server = own;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(MariaDbTestDatabase.url(server, MariaDbTestDatabase.Driver.MARIADB, server.user(), server.password()));
        config.setMaximumPoolSize(8);
        config.setConnectionTimeout(OPERATION_TIMEOUT.toMillis());
        config.setValidationTimeout(OPERATION_TIMEOUT.toMillis() / 2);
        pool = new HikariDataSource(config);
    }

    @AfterAll
    static void stopServer() {
        pool.close();
    }

    @AfterEach
    void closeEverything() throws Exception {
        server.resume();
        for (int i = closeAfterTest.size() - 1; i >= 0; i--) {
            closeAfterTest.get(i).close();
        }
        closeAfterTest.clear();
    }

    private Dlm dlm(String owner) {
        Dlm dlm = JdbcDlm.create(pool, DlmOptions.builder().defaultOwner(owner).operationTimeout(OPERATION_TIMEOUT)
                .defaultTtl(Duration.ofSeconds(30)).build());
        closeAfterTest.add(dlm);
        return dlm;
    }

    private static String key() {
        return "failure-" + UUID.randomUUID();
    }

    @Test
    void aPausedServerFailsInTimeAndServesOnceResumed() throws Exception {
        Mutex mutex = dlm("a").newMutex(key());
        mutex.tryLock().orElseThrow().close();
        server.pause();
        long start = System.nanoTime();
        assertThatThrownBy(mutex::tryLock).isInstanceOf(LockBackendException.class).hasMessageContaining("MariaDB at");
        // the failed acquire, then its undo: each within the operation timeout
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to fail")
                .isLessThan(OPERATION_TIMEOUT.multipliedBy(2).plusSeconds(4));
        server.resume();
        mutex.tryLock().orElseThrow().close();
    }

    @Test
    void aRestartedServerServesTheNextCallWithRisingTokens() throws Exception {
        Mutex mutex = dlm("a").newMutex(key());
        long before;
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            before = lease.fencingToken();
        }
        server.restart();
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            assertThat(lease.fencingToken()).as("token after the restart").isGreaterThan(before);
        }
    }

    @Test
    void contendedLockingLeavesNoFailedStatementInTheServerLog() throws Exception {
        String key = key();
        int logBefore = server.log().length();
        List<Dlm> dlms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            dlms.add(dlm("owner-" + i));
        }
        assertThat(Contention.run(dlms, key, 50)).as("acquisitions").isPositive();
        String log = server.log().substring(logBefore);
        assertThat(log).as("what the server logged meanwhile").doesNotContain("ERROR 1062")
                .doesNotContain("Duplicate entry").doesNotContain("ERROR 1213").doesNotContain("Deadlock");
    }
}
