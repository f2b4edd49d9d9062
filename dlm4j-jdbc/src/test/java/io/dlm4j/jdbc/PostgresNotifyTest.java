package io.dlm4j.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WakeUpTiming;
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
import static org.awaitility.Awaitility.await;

/**
 * PostgreSQL waiters are woken by NOTIFY on one LISTEN connection per Dlm. The waiting interval is
 * 10 s, so a waiter that acquires within 200 ms of the unlock was woken by the notification. The
 * waiter's Dlm borrows through a {@link CountingDataSource}: its tries are over, and it waits, when
 * every borrowed connection but the LISTEN one is back and the LISTEN is in place.
 */
@WithPostgres(own = true)
class PostgresNotifyTest {

    private static final Duration PUSH_BOUND = Duration.ofMillis(200);
    private static final Duration WAITING_INTERVAL = Duration.ofSeconds(10);

    private static PostgresServer server;
    private static HikariDataSource pool;
    private static ExecutorService threads;
    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();

    @BeforeAll
    static void startServer(PostgresServer own) {
        server = own;
        pool = PostgresConformanceTest.pool(server);
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        pool.close();
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

    private static DlmOptions options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).defaultTtl(Duration.ofSeconds(30))
                .waitingInterval(WAITING_INTERVAL).build();
    }

    private static long listeners() {
        return Long.parseLong(server.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
                + " AND state = 'idle'").strip());
    }

    /** Until the waiter's tries are over and it listens: every connection but the LISTEN one is back. */
    private static void awaitWaiting(CountingDataSource counted, long listenersBefore) {
        await("the waiter waits").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> counted.borrowed() >= 3 && counted.returned() == counted.borrowed() - 1
                        && listeners() > listenersBefore);
    }

    @Test
    void aWaiterAcquiresWithinTwoHundredMillisecondsOfTheRelease() throws Exception {
        String key = "notify-" + UUID.randomUUID();
        Dlm holderDlm = closed(JdbcDlm.create(pool, options("holder")));
        CountingDataSource counted = new CountingDataSource(pool);
        Dlm waiterDlm = closed(JdbcDlm.create(counted, options("waiter")));
        Mutex waiter = waiterDlm.newMutex(key);
        for (int round = 0; round < 3; round++) {
            Lease held = holderDlm.newMutex(key).tryLock().orElseThrow();
            long listenersBefore = round == 0 ? listeners() : listeners() - 1;
            int borrowedBefore = counted.borrowed();
            Future<Long> acquired = WakeUpTiming.lockInBackground(threads, waiter);
            await().atMost(Duration.ofSeconds(10)).until(() -> counted.borrowed() >= borrowedBefore + 2
                    && counted.returned() == counted.borrowed() - 1);
            awaitWaiting(counted, listenersBefore);
            Duration latency = WakeUpTiming.latencyOfUnlock(held, acquired, Duration.ofSeconds(15));
            assertThat(latency).as("round %d: from the unlock to the waiter's acquisition", round).isLessThan(PUSH_BOUND);
        }
    }

    @Test
    void aTerminatedListenConnectionIsReplacedAndWaitersAreStillWoken() throws Exception {
        String key = "relisten-" + UUID.randomUUID();
        Dlm holderDlm = closed(JdbcDlm.create(pool, options("holder")));
        CountingDataSource counted = new CountingDataSource(pool);
        Dlm waiterDlm = closed(JdbcDlm.create(counted, options("waiter")));
        Mutex waiter = waiterDlm.newMutex(key);

        Lease held = holderDlm.newMutex(key).tryLock().orElseThrow();
        long before = listeners();
        Future<Long> first = WakeUpTiming.lockInBackground(threads, waiter);
        awaitWaiting(counted, before);
        assertThat(server.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'")
                .strip()).as("LISTEN connections terminated").isNotEqualTo("0");
        await("a new LISTEN").atMost(Duration.ofSeconds(10)).until(() -> listeners() >= 1);
        // the reconnect wakes the waiter once, for what it may have missed: let that try end
        await().atMost(Duration.ofSeconds(10)).until(() -> counted.returned() == counted.borrowed() - 1);

        Duration latency = WakeUpTiming.latencyOfUnlock(held, first, Duration.ofSeconds(15));
        assertThat(latency).as("from the unlock to the acquisition, on the new LISTEN connection").isLessThan(PUSH_BOUND);
    }
}
