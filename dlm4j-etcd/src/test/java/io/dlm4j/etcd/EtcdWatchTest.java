package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.WakeUpTiming;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.etcd.EtcdTestSupport.metric;
import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static io.dlm4j.etcd.EtcdTestSupport.txns;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Waiters are woken by a watch on deletions under the Dlm's key prefix (a release deletes the
 * key; so does etcd when the hold's lease expires), one watch per Dlm for all its waiters.
 *
 * <p>The waiting interval is 10 s in the push tests, so a waiter that acquires within 200 ms of the
 * unlock was woken by the watch. To know that a waiter made its tries and now waits, the tests count
 * the transactions the member handled ({@code grpc_server_handled_total{grpc_method="Txn"}} in
 * {@code /metrics}): each acquire try is one transaction. JUnit runs the tests of this class one at
 * a time on the class's own member, so the counts are the waiters' own.
 *
 * <p>Watch metrics of etcd 3.4 ({@code /metrics}): {@code etcd_debugging_mvcc_watch_stream_total}
 * (gRPC watch streams open now) and {@code etcd_debugging_mvcc_watcher_total} (watchers now, over
 * all streams); both are gauges, and both exist in 3.4.
 */
@WithEtcd(own = true)
class EtcdWatchTest {

    /** The requirement: a waiter acquires within this long of the holder's unlock. */
    private static final Duration PUSH_BOUND = Duration.ofMillis(200);
    private static final Duration WAITING_INTERVAL = Duration.ofSeconds(10);
    private static final Duration HOLDER_TTL = Duration.ofSeconds(30);

    private static EtcdCluster etcd;
    private static Client client;
    private static ExecutorService threads;

    @BeforeAll
    static void startServer(EtcdCluster shared) {
        etcd = shared;
        client = EtcdTestSupport.client(etcd.endpoints());
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (client != null) {
            client.close();
        }
    }

    private static DlmOptions options(String owner) {
        return EtcdTestSupport.options(owner)
                .defaultTtl(HOLDER_TTL)
                .waitingInterval(WAITING_INTERVAL)
                .build();
    }

    private static EtcdMember member() {
        return etcd.member(0);
    }

    /** Waits until the member handled {@code count} more transactions than {@code base}. */
    private static void awaitTxns(long base, long count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> txns(member()) >= base + count);
    }

    private static long watchers() {
        return (long) metric(member(), "etcd_debugging_mvcc_watcher_total");
    }

    private static long watchStreams() {
        return (long) metric(member(), "etcd_debugging_mvcc_watch_stream_total");
    }

    /** A lock() on another thread; the future gives when it acquired. */
    private static Future<Long> lockInBackground(Mutex mutex) {
        return WakeUpTiming.lockInBackground(threads, mutex);
    }

    @Test
    void aWaiterOfAnotherDlmAcquiresWithin200msOfTheUnlock() throws Exception {
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"));
             Dlm waiterDlm = EtcdDlm.create(client, options("waiter"))) {
            List<Duration> latencies = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                String key = newKey("push");
                Lease held = holderDlm.newMutex(key).tryLock().orElseThrow();
                long base = txns(member());
                Future<Long> waiter = lockInBackground(waiterDlm.newMutex(key));
                // the waiter tries, starts watching (first round only), tries again, then waits
                awaitTxns(base, 2);
                assertThat(waiter).as("the waiter waits while the lock is held").isNotDone();

                latencies.add(WakeUpTiming.latencyOfUnlock(held, waiter, WAITING_INTERVAL.plusSeconds(5)));
            }
            System.out.println("etcd push wake-up latencies (unlock to acquired): " + latencies);
            assertThat(latencies).as("from unlock to acquired, each round").allSatisfy(
                    latency -> assertThat(latency).isLessThan(PUSH_BOUND));
        }
    }

    /**
     * The holder's 1 s lease expires without an unlock: etcd deletes the key with the lease, and the
     * watch sees that deletion as it sees a release. The waiter (waiting interval 10 s) acquires
     * within a second of the hold's expiresAt. Without the watch it would not: the try at the
     * expiry the failed acquire reported (etcd reports whole seconds left, rounded down) comes
     * before etcd's leader notices the expiry (it checks every 500 ms), and the next try would wait
     * the 5 to 10 s waiting interval.
     */
    @Test
    void aWaiterAcquiresSoonAfterTheHoldersLeaseExpiresWithoutAnUnlock() throws Exception {
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"));
             Dlm waiterDlm = EtcdDlm.create(client, options("waiter"))) {
            for (int round = 0; round < 2; round++) {
                String key = newKey("expiry");
                Lease held = holderDlm.newMutex(MutexOptions.builder(key).ttl(Duration.ofSeconds(1))
                        .autoRefresh(false).build()).tryLock().orElseThrow();
                Future<Long> waiter = threads.submit(() -> {
                    Lease lease = waiterDlm.newMutex(key).lock();
                    lease.close();
                    return System.nanoTime();
                });
                long acquiredAtNanos = waiter.get(WAITING_INTERVAL.toSeconds() + 5, TimeUnit.SECONDS);
                Instant acquiredAt = Instant.now().minusNanos(System.nanoTime() - acquiredAtNanos);
                assertThat(acquiredAt).as("acquired after the holder's expiry (round %d)", round)
                        .isAfterOrEqualTo(held.expiresAt().minusMillis(10))
                        .as("acquired within 1 s of the holder's expiresAt %s (round %d)", held.expiresAt(), round)
                        .isBefore(held.expiresAt().plusSeconds(1));
            }
        }
    }

    /**
     * Five waiters (each its own owner) on three keys, all in one Dlm: etcd sees one more watcher
     * and one more watch stream while they wait, not three or five; after the Dlm is closed, none.
     */
    @Test
    void aDlmWatchesThroughOneWatcherOnOneStreamForAllItsWaiters() throws Exception {
        String base = newKey("shared");
        List<String> keys = List.of(base + "-a", base + "-b", base + "-c");
        // the Dlms of earlier tests are closed; their watches end asynchronously (a cancel on the stream)
        await().atMost(Duration.ofSeconds(5)).until(() -> watchers() == 0 && watchStreams() == 0);
        long watchersBefore = watchers();
        long streamsBefore = watchStreams();
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"))) {
            List<Lease> held = new ArrayList<>();
            for (String key : keys) {
                held.add(holderDlm.newMutex(key).tryLock().orElseThrow());
            }
            List<Future<Long>> waiters = new ArrayList<>();
            try (Dlm waiterDlm = EtcdDlm.create(client, options("unused"))) {
                long txnsBefore = txns(member());
                for (int i = 0; i < 5; i++) {
                    Mutex mutex = waiterDlm.newMutex(MutexOptions.builder(keys.get(i % 3)).owner("waiter-" + i).build());
                    waiters.add(lockInBackground(mutex));
                }
                awaitTxns(txnsBefore, 10); // two tries each: all five wait now
                assertThat(waiters).noneMatch(Future::isDone);
                assertThat(watchers() - watchersBefore).as("etcd_debugging_mvcc_watcher_total, added").isEqualTo(1);
                assertThat(watchStreams() - streamsBefore).as("etcd_debugging_mvcc_watch_stream_total, added")
                        .isEqualTo(1);

                long releasedAt = System.nanoTime();
                held.forEach(Lease::close);
                for (Future<Long> waiter : waiters) {
                    waiter.get(WAITING_INTERVAL.toSeconds() + 5, TimeUnit.SECONDS);
                }
                // two waiters per key for two keys: the second of each is woken by the first one's release
                assertThat(Duration.ofNanos(System.nanoTime() - releasedAt)).as("all five acquired")
                        .isLessThan(Duration.ofSeconds(2));
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(watchers()).as("watchers after the waiting Dlm closed").isEqualTo(watchersBefore);
                assertThat(watchStreams()).as("watch streams after the waiting Dlm closed").isEqualTo(streamsBefore);
            });
        }
    }

    /**
     * The member is killed and restarted while a waiter (waiting interval 300 ms) waits: its watch
     * stream breaks. After the restart, the holder releases, and the waiter still acquires, by
     * polling (the Dlm drops the broken watch) or through a new watch. The next waiter of the Dlm
     * watches again.
     *
     * <p>A try that is on its way when the member dies fails ("channel closed"), and the contract
     * ends the wait with that LockBackendException. Such a round says nothing about the fallback and
     * is run again, up to three rounds; at least one must see the waiter wait through the restart.
     */
    @Test
    void aWaiterStillAcquiresAfterItsWatchBrokeWithARestartOfTheMember() throws Exception {
        DlmOptions polling = EtcdTestSupport.options("waiter").waitingInterval(Duration.ofMillis(300))
                .operationTimeout(Duration.ofSeconds(10)).build();
        await().atMost(Duration.ofSeconds(5)).until(() -> watchers() == 0);
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"))) {
            List<Throwable> failedRounds = new ArrayList<>();
            for (int round = 1; round <= 3; round++) {
                try (Dlm waiterDlm = EtcdDlm.create(client, polling)) {
                    String key = newKey("broken-watch");
                    Mutex holderMutex = holderDlm.newMutex(key);
                    holderMutex.tryLock().orElseThrow();
                    long base = txns(member());
                    Future<Long> waiter = lockInBackground(waiterDlm.newMutex(key));
                    awaitTxns(base, 2);
                    assertThat(watchers()).as("the waiting Dlm's watch").isEqualTo(1);

                    member().kill();
                    member().restart();
                    if (waiter.isDone()) {
                        // a try failed while the member was down: allowed, see above
                        failedRounds.add(catchFailure(waiter));
                        holderMutex.unlock();
                        continue;
                    }

                    long releasedAt = System.nanoTime();
                    holderMutex.unlock();
                    long acquiredAt = waiter.get(10, TimeUnit.SECONDS);
                    Duration latency = Duration.ofNanos(acquiredAt - releasedAt);
                    System.out.println("after the restart (round " + round + "), acquired " + latency
                            + " after the release");
                    assertThat(latency).as("from the release to the acquisition").isLessThan(Duration.ofSeconds(2));

                    // the broken watch is not left behind, and the next waiter of the Dlm watches again
                    // (the restarted member's gauges count from zero)
                    await().atMost(Duration.ofSeconds(5)).until(() -> watchers() == 0);
                    String next = newKey("rewatch");
                    Mutex nextHolder = holderDlm.newMutex(next);
                    nextHolder.tryLock().orElseThrow();
                    long nextBase = txns(member());
                    Future<Long> nextWaiter = lockInBackground(waiterDlm.newMutex(next));
                    awaitTxns(nextBase, 2);
                    assertThat(watchers()).as("watchers after the next waiter subscribed").isEqualTo(1);
                    nextHolder.unlock();
                    nextWaiter.get(10, TimeUnit.SECONDS);
                    return;
                }
            }
            throw new AssertionError("in every round a try failed during the restart: " + failedRounds);
        }
    }

    private static Throwable catchFailure(Future<?> done) throws InterruptedException {
        try {
            done.get();
            throw new AssertionError("the waiter acquired while the holder still held the lock");
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).as("how the wait ended during the restart").isInstanceOf(LockBackendException.class);
            return e.getCause();
        }
    }
}
