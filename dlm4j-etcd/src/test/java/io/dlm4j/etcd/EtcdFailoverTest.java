package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static io.dlm4j.etcd.EtcdTestSupport.stored;
import static io.dlm4j.etcd.EtcdTestSupport.storedLocally;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Holds on a three-member cluster through the loss of the leader and through member restarts.
 *
 * <p><b>What etcd 3.4 does to leases when the leader changes.</b> Only the leader ("primary
 * lessor") expires leases, by its own monotonic clock; followers keep the lease table (it is in
 * the Raft log and the backend) but not the remaining time. etcd 3.4 does not checkpoint remaining
 * TTLs unless started with {@code --experimental-enable-lease-checkpoint}, so a new leader
 * ({@code lessor.Promote}) gives every lease its full granted TTL again, plus the election timeout,
 * counted from the moment it took over. Consequences for dlm4j:
 * <ul>
 *   <li>a hold survives a leader change even when its holder cannot refresh during the election:
 *       the new leader renews it; an auto-refreshed hold stays valid;</li>
 *   <li>a hold whose holder stopped refreshing can outlive its ttl by up to ttl + election timeout
 *       per leader change (waiters wait longer; the holder's {@code expiresAt}, a conservative
 *       local estimate, is never later than etcd's real expiry, so it stays safe);</li>
 *   <li>keep-alives sent to the old leader during the election fail, and the engine retries them
 *       at the next period until the hold's {@code expiresAt}.</li>
 * </ul>
 * Keys and their create revisions (the fencing tokens) are in the replicated store: a member that
 * restarts reads them from its data folder and catches up on what it missed, so no hold is lost.
 *
 * <p>Each test leaves every member running ({@link #restoreMembers()}), whatever it did to them.
 */
@WithEtcd(members = 3, own = true)
class EtcdFailoverTest {

    private static final Duration TTL = Duration.ofSeconds(2);

    private static EtcdCluster etcd;
    /** On all members' endpoints. */
    private static Client client;
    private static ExecutorService threads;

    @BeforeAll
    static void startCluster(EtcdCluster shared) {
        etcd = shared;
        client = EtcdTestSupport.client(etcd.endpoints());
        threads = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (client != null) {
            client.close();
        }
    }

    @AfterEach
    void restoreMembers() {
        for (EtcdMember m : etcd.members()) {
            if (!m.isRunning()) {
                m.restart();
            }
        }
        etcd.awaitLeader(Duration.ofSeconds(10));
    }

    private static DlmOptions options(String owner) {
        return EtcdTestSupport.options(owner).defaultTtl(TTL).build();
    }

    private static List<EtcdMember> othersThan(EtcdMember member) {
        return etcd.members().stream().filter(m -> m != member).toList();
    }

    private static KeyValue storedOrFail(Client through, String key) {
        return stored(through, key).orElseThrow(() -> new AssertionError("no key for lock " + key + " in etcd"));
    }

    /**
     * An auto-refreshed hold (ttl 6 s, the client on all members) while the leader is killed: after
     * the election the hold is still there with its token, as a Dlm on the surviving members sees
     * it; another owner cannot take it; the lease stays valid (its refreshes go on, and the new
     * leader renewed the etcd lease anyway); new holds on other keys work. When the old leader comes
     * back, its own copy of the key has the same create revision.
     *
     * <p>The lease's ttl (6 s) outlasts an election plus a refresh period: an auto-refreshed lease
     * none of whose refreshes succeeds within its ttl is marked lost at its local expiry (a safety
     * rule), even where etcd itself kept the hold through the election.
     */
    @Test
    void aHoldAndItsTokenSurviveTheLossOfTheLeader() {
        String key = newKey("leader-killed");
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"))) {
            Lease lease = holderDlm.newMutex(MutexOptions.builder(key).ttl(Duration.ofSeconds(6)).autoRefresh(true).build())
                    .tryLock().orElseThrow();
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);
            long token = lease.fencingToken();

            EtcdMember oldLeader = etcd.leader();
            oldLeader.kill();
            EtcdMember newLeader = etcd.awaitLeader(Duration.ofSeconds(10));
            assertThat(newLeader).isNotSameAs(oldLeader);

            List<String> surviving = othersThan(oldLeader).stream().map(EtcdMember::endpoint).toList();
            try (Client survivors = EtcdTestSupport.client(surviving);
                 Dlm observer = EtcdDlm.create(survivors, options("observer"))) {
                LockInfo info = observer.newMutex(key).holder().orElseThrow(
                        () -> new AssertionError("the hold is gone after the leader was killed"));
                assertThat(info.owner()).isEqualTo("holder");
                assertThat(info.fencingToken()).isEqualTo(token);
                assertThat(storedOrFail(survivors, key).getCreateRevision()).isEqualTo(token);
                assertThat(observer.newMutex(key).tryLock()).as("another owner's tryLock").isEmpty();

                // the auto-refreshed lease stays valid for more than its ttl after the election
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(lease::isValid);
                assertThat(lost).as("onLost calls").hasValue(0);
                assertThat(observer.newMutex(key).holder().orElseThrow().fencingToken()).isEqualTo(token);

                // new acquisitions after the election, through both clients
                String other = newKey("after-election");
                Lease fresh = observer.newMutex(other).tryLock().orElseThrow();
                assertThat(fresh.fencingToken()).isGreaterThan(token);
                fresh.close();
                String another = newKey("after-election");
                Lease viaAll = holderDlm.newMutex(another).tryLock().orElseThrow();
                assertThat(viaAll.fencingToken()).isGreaterThan(fresh.fencingToken());
                viaAll.close();
            }

            // the old leader comes back with the same data and catches up
            oldLeader.restart();
            try (Client onlyOldLeader = EtcdTestSupport.client(oldLeader)) {
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                        assertThat(storedLocally(onlyOldLeader, key).map(KeyValue::getCreateRevision))
                                .as("the old leader's own copy of the key").contains(token));
            }
            assertThat(lease.isValid()).isTrue();
            lease.close();
            assertThat(stored(client, key)).isEmpty();
            assertThat(lost).hasValue(0);
        }
    }

    /**
     * Three owners (threads, each its own Dlm) take turns on one key while the leader is killed and
     * a new one elected. Inside the critical section a counter must be 1, and the tokens, recorded
     * inside it, must strictly increase in the order the holds were taken. Calls may fail during the
     * election (a LockBackendException ends a wait, per the contract); the threads try again.
     *
     * <p>One exception, by the owner rule: when a release failed, the hold stays until its expiry,
     * and the same owner's next lock() relocks that very hold, with its token. So a token may repeat
     * right after a failed release by the same owner, and only then.
     */
    @Test
    void holdsNeverOverlapAndTokensIncreaseAcrossAFailover() throws Exception {
        String key = newKey("mutex-failover");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
        // per hold, in the order of the tokens: its owner, and whether its release failed
        List<String> holders = Collections.synchronizedList(new ArrayList<>());
        List<Boolean> releaseFailed = Collections.synchronizedList(new ArrayList<>());
        List<Dlm> dlms = new ArrayList<>();
        List<Future<?>> workers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Dlm dlm = EtcdDlm.create(client, EtcdTestSupport.options("owner-" + i).defaultTtl(TTL)
                        .waitingInterval(Duration.ofMillis(50)).build());
                dlms.add(dlm);
                Mutex mutex = dlm.newMutex(key);
                String owner = "owner-" + i;
                workers.add(threads.submit(() -> {
                    while (!stop.get()) {
                        Lease lease;
                        try {
                            lease = mutex.lock(Duration.ofSeconds(10));
                        } catch (LockBackendException | LockTimeoutException e) {
                            failures.incrementAndGet();
                            continue;
                        }
                        int index = -1;
                        try {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            synchronized (tokens) {
                                index = tokens.size();
                                tokens.add(lease.fencingToken());
                                holders.add(owner);
                                releaseFailed.add(false);
                            }
                            Thread.sleep(5); // the work guarded by the lock
                        } finally {
                            inside.decrementAndGet();
                            try {
                                lease.close();
                            } catch (LockBackendException e) {
                                failures.incrementAndGet(); // the hold ends at its expiry instead
                                if (index >= 0) {
                                    releaseFailed.set(index, true);
                                }
                            }
                        }
                    }
                    return null;
                }));
            }

            await().atMost(Duration.ofSeconds(10)).until(() -> tokens.size() >= 10);
            EtcdMember leader = etcd.leader();
            leader.kill();
            etcd.awaitLeader(Duration.ofSeconds(10));
            int atElection = tokens.size();
            await().atMost(Duration.ofSeconds(20)).until(() -> tokens.size() >= atElection + 10);
        } finally {
            stop.set(true);
            for (Future<?> worker : workers) {
                worker.get(30, TimeUnit.SECONDS);
            }
            dlms.forEach(Dlm::close);
        }

        System.out.println("mutual exclusion across a failover: " + tokens.size() + " holds, "
                + failures.get() + " failed calls");
        assertThat(overlaps).as("holds that overlapped").hasValue(0);
        List<Long> inOrder = List.copyOf(tokens);
        for (int i = 1; i < inOrder.size(); i++) {
            boolean sameHoldRelocked = releaseFailed.get(i - 1) && holders.get(i).equals(holders.get(i - 1))
                    && inOrder.get(i).equals(inOrder.get(i - 1));
            if (!sameHoldRelocked) {
                assertThat(inOrder.get(i)).as("token of hold %d after %d", i, inOrder.get(i - 1))
                        .isGreaterThan(inOrder.get(i - 1));
            }
        }
    }

    /**
     * A follower is stopped and restarted, then the leader: a 30 s hold that nobody refreshes and an
     * auto-refreshed 2 s hold are both still there with their create revisions (tokens), also in
     * the restarted members' own copies, and no other owner can take them.
     */
    @Test
    void restartingAFollowerAndThenTheLeaderLosesNoHold() {
        String longKey = newKey("restart-long");
        String refreshedKey = newKey("restart-refreshed");
        try (Dlm holderDlm = EtcdDlm.create(client, options("holder"));
             Dlm otherDlm = EtcdDlm.create(client, options("other"))) {
            Lease longHold = holderDlm.newMutex(MutexOptions.builder(longKey).ttl(Duration.ofSeconds(30))
                    .autoRefresh(false).build()).tryLock().orElseThrow();
            Lease refreshed = holderDlm.newMutex(MutexOptions.builder(refreshedKey).autoRefresh(true).build())
                    .tryLock().orElseThrow();
            AtomicInteger lost = new AtomicInteger();
            longHold.onLost(lost::incrementAndGet);
            refreshed.onLost(lost::incrementAndGet);

            EtcdMember leader = etcd.leader();
            EtcdMember follower = othersThan(leader).get(0);
            follower.restart();
            assertHoldsIntact(follower, otherDlm, longHold, refreshed);

            EtcdMember currentLeader = etcd.leader();
            currentLeader.restart(); // SIGTERM: it hands over its leadership first
            etcd.awaitLeader(Duration.ofSeconds(10));
            assertHoldsIntact(currentLeader, otherDlm, longHold, refreshed);

            assertThat(longHold.isValid()).isTrue();
            assertThat(refreshed.isValid()).isTrue();
            assertThat(lost).as("onLost calls").hasValue(0);
            longHold.close();
            refreshed.close();
        }
    }

    private static void assertHoldsIntact(EtcdMember restarted, Dlm otherDlm, Lease... leases) {
        try (Client onlyRestarted = EtcdTestSupport.client(restarted)) {
            for (Lease lease : leases) {
                assertThat(storedOrFail(client, lease.key()).getCreateRevision())
                        .as("create revision of %s after %s restarted", lease.key(), restarted.name())
                        .isEqualTo(lease.fencingToken());
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                        assertThat(storedLocally(onlyRestarted, lease.key()).map(KeyValue::getCreateRevision))
                                .as("%s's own copy of %s", restarted.name(), lease.key())
                                .contains(lease.fencingToken()));
                assertThat(otherDlm.newMutex(lease.key()).tryLock()).as("another owner's tryLock of %s", lease.key())
                        .isEmpty();
                LockInfo info = otherDlm.newMutex(lease.key()).holder().orElseThrow();
                assertThat(info.owner()).isEqualTo("holder");
                assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
            }
        }
    }
}
