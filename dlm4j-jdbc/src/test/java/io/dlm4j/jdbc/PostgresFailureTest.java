package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithPostgres;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * PostgreSQL going away under a Dlm: a paused server fails operations in time and serves again
 * once resumed, a restarted one serves at once with tokens that keep rising, terminated
 * connections are replaced without a failed call, and contended locking leaves no unique
 * violation in the server's log.
 */
@WithPostgres(own = true)
class PostgresFailureTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(2);

    private static PostgresServer server;
    private static HikariDataSource pool;
    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

    @BeforeAll
    static void startServer(PostgresServer own) {
        server = own;
        // a pool that waits for a connection no longer than the Dlm waits for an operation, as docs/JDBC.md asks
        pool = PostgresConformanceTest.pool(server, config -> {
            config.setConnectionTimeout(OPERATION_TIMEOUT.toMillis());
            config.setValidationTimeout(OPERATION_TIMEOUT.toMillis() / 2);
        });
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
        Dlm dlm = dlm("a");
        Mutex mutex = dlm.newMutex(key());
        mutex.tryLock().orElseThrow().close();
        server.pause();
        long start = System.nanoTime();
        assertThatThrownBy(mutex::tryLock).isInstanceOf(LockBackendException.class).hasMessageContaining("PostgreSQL at");
        // the failed acquire, then its undo: each within the operation timeout
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to fail")
                .isLessThan(OPERATION_TIMEOUT.multipliedBy(2).plusSeconds(4));
        server.resume();
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            assertThat(lease.fencingToken()).isPositive();
        }
    }

    @Test
    void aRestartedServerServesTheNextCallWithRisingTokens() throws Exception {
        Dlm dlm = dlm("a");
        Mutex mutex = dlm.newMutex(key());
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
    void terminatedConnectionsAreReplacedWithoutAFailedCall() throws Exception {
        Dlm dlm = dlm("a");
        Mutex mutex = dlm.newMutex(key());
        mutex.tryLock().orElseThrow().close();
        String terminated = server.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").strip();
        assertThat(Integer.parseInt(terminated)).as("connections terminated").isPositive();
        try (Lease lease = mutex.tryLock().orElseThrow()) {
            assertThat(lease.owner()).isEqualTo("a");
        }
    }

    @Test
    void manyInstancesCreatingTheTableAtOnceLogNoError() throws Exception {
        String table = "created_at_once_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        int logBefore = server.log().length();
        ExecutorService threads = Executors.newFixedThreadPool(6);
        try {
            List<Future<Dlm>> made = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                made.add(threads.submit(() -> JdbcDlm.builder(pool).table(table).options(DlmOptions.builder()
                        .defaultOwner("starter").operationTimeout(OPERATION_TIMEOUT).build()).build()));
            }
            for (Future<Dlm> dlm : made) {
                closeAfterTest.add(dlm.get(30, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
        try (Lease lease = dlm("a").newMutex("k").tryLock().orElseThrow()) {
            assertThat(lease.fencingToken()).isPositive();
        }
        assertThat(server.log().substring(logBefore)).as("what the server logged meanwhile").doesNotContain("ERROR:");
    }

    @Test
    void contendedLockingLeavesNoUniqueViolationInTheServerLog() throws Exception {
        String key = key();
        int logBefore = server.log().length();
        List<Dlm> dlms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            dlms.add(dlm("owner-" + i));
        }
        assertThat(Contention.run(dlms, key, 50)).as("acquisitions").isPositive();
        String log = server.log().substring(logBefore);
        assertThat(log).as("what the server logged meanwhile").doesNotContain("duplicate key")
                .doesNotContain("could not serialize").doesNotContain("ERROR:");
    }
}
