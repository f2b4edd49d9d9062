package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdClusterOptions;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dlm4j.etcd.EtcdTestSupport.leaseIds;
import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static io.dlm4j.etcd.EtcdTestSupport.options;
import static io.dlm4j.etcd.EtcdTestSupport.stored;
import static io.dlm4j.etcd.EtcdTestSupport.timeToLive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a hold is in etcd: one lease per hold, granted in whole seconds and at least etcd's minimum;
 * the fencing token is the key's create revision; a release deletes only this owner's key and
 * revokes the lease; a holder that stops refreshing loses the lock to etcd's expiry.
 *
 * <p>One member with {@link EtcdClusterOptions#defaults()} (heartbeat 50 ms, election timeout
 * 500 ms): its minimum lease ttl is 1 s, so a 1 s lease is granted as 1 s. One test starts a second
 * member with etcd's own timing, whose minimum is 2 s.
 */
@WithEtcd(own = true)
class EtcdLeaseTest {

    private static EtcdCluster etcd;
    private static Client client;

    @BeforeAll
    static void startServer(EtcdCluster shared) {
        etcd = shared;
        client = EtcdTestSupport.client(etcd.endpoints());
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
    }

    private static String storeKey(String key) {
        return EtcdDlm.DEFAULT_KEY_PREFIX + key;
    }

    private static KeyValue storedOrFail(String key) {
        return stored(client, key).orElseThrow(() -> new AssertionError("no key " + storeKey(key) + " in etcd"));
    }

    // ---- ttl rounding --------------------------------------------------------------------------

    /**
     * etcd grants whole seconds: the ttl is rounded up (never down, so a hold never ends before its
     * ttl), and {@code expiresAt} is the time before the request plus what etcd granted, not plus
     * the ttl asked for. The lease's granted ttl as etcd reports it (LeaseTimeToLive of the lease the
     * key is attached to) is the same number.
     */
    @ParameterizedTest(name = "ttl {0} ms is granted as {1} s")
    @CsvSource({"300, 1", "1000, 1", "1200, 2", "2000, 2", "2001, 3"})
    void theTtlIsRoundedUpToWholeSecondsAndExpiresAtIsWhatEtcdGranted(long ttlMillis, long grantedSeconds) {
        assertThat(etcd.options().minimumLeaseTtl()).as("this cluster's minimum lease ttl").isEqualTo(Duration.ofSeconds(1));
        String key = newKey("rounding");
        Duration ttl = Duration.ofMillis(ttlMillis);
        Duration granted = Duration.ofSeconds(grantedSeconds);
        try (Dlm dlm = EtcdDlm.create(client, options("a").build())) {
            Mutex mutex = dlm.newMutex(key, ttl);
            Instant before = Instant.now();
            Lease lease = mutex.tryLock().orElseThrow();
            Instant after = Instant.now();

            LeaseTimeToLiveResponse etcdLease = timeToLive(client, storedOrFail(key).getLease());
            assertThat(etcdLease.getGrantedTTL()).as("the ttl etcd granted, in seconds").isEqualTo(grantedSeconds);
            assertThat(etcdLease.getTTL()).as("seconds left of the etcd lease").isBetween(grantedSeconds - 1, grantedSeconds);
            assertThat(lease.expiresAt())
                    .as("expiresAt: the time before the request plus the granted %s (not the ttl %s)", granted, ttl)
                    .isAfterOrEqualTo(before.plus(granted))
                    .isBeforeOrEqualTo(after.plus(granted));

            // a refresh (keep-alive) extends by the granted ttl again, and expiresAt says so
            Instant beforeRefresh = Instant.now();
            assertThat(lease.refresh()).isTrue();
            Instant afterRefresh = Instant.now();
            assertThat(lease.expiresAt()).isAfterOrEqualTo(beforeRefresh.plus(granted))
                    .isBeforeOrEqualTo(afterRefresh.plus(granted));
            lease.close();
        }
    }

    /**
     * With etcd's own timing (election timeout 1 s) the server's minimum lease ttl is 2 s: a 300 ms
     * and a 1.2 s ttl are both granted as 2 s, and expiresAt shows the 2 s.
     */
    @Test
    void aServerWithALargerMinimumRaisesTheLeaseAndExpiresAtShowsIt() {
        try (EtcdCluster slow = EtcdCluster.start(1, EtcdClusterOptions.etcdDefaults());
             Client slowClient = EtcdTestSupport.client(slow.endpoints());
             Dlm dlm = EtcdDlm.create(slowClient, options("a").build())) {
            assertThat(slow.options().minimumLeaseTtl()).isEqualTo(Duration.ofSeconds(2));
            for (Duration ttl : List.of(Duration.ofMillis(300), Duration.ofMillis(1200))) {
                String key = newKey("minimum");
                Instant before = Instant.now();
                Lease lease = dlm.newMutex(key, ttl).tryLock().orElseThrow();
                Instant after = Instant.now();
                KeyValue kv = stored(slowClient, key).orElseThrow();
                assertThat(timeToLive(slowClient, kv.getLease()).getGrantedTTL())
                        .as("granted ttl for %s", ttl).isEqualTo(2);
                assertThat(lease.expiresAt()).as("expiresAt for %s", ttl)
                        .isAfterOrEqualTo(before.plusSeconds(2))
                        .isBeforeOrEqualTo(after.plusSeconds(2));
                lease.close();
            }
        }
    }

    // ---- fencing token -------------------------------------------------------------------------

    /**
     * The token is the key's create revision. A relock by the same owner moves the key to a new
     * lease but keeps the create revision (a put on an existing key), and so the token; a refresh
     * keeps it too. The next hold after the release is a new key: a later create revision, also
     * later than any revision the cluster had while the first hold lasted.
     */
    @Test
    void theTokenIsTheKeysCreateRevisionKeptByRelockAndRefreshAndGreaterForTheNextHold() {
        String key = newKey("token");
        try (Dlm a = EtcdDlm.create(client, options("a").build());
             Dlm b = EtcdDlm.create(client, options("b").build())) {
            long revisionBefore = etcd.revision();
            Mutex mutex = a.newMutex(key, Duration.ofSeconds(10));
            Lease first = mutex.tryLock().orElseThrow();
            KeyValue created = storedOrFail(key);
            assertThat(first.fencingToken()).as("token = create revision of the key")
                    .isEqualTo(created.getCreateRevision())
                    .isGreaterThan(revisionBefore);
            assertThat(created.getValue().toString(StandardCharsets.UTF_8)).as("the value names the owner").isEqualTo("a");

            // relock: same token, the key now lives on another lease; the old one is revoked
            Lease relock = mutex.tryLock().orElseThrow();
            KeyValue moved = storedOrFail(key);
            assertThat(relock.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(moved.getCreateRevision()).isEqualTo(created.getCreateRevision());
            assertThat(moved.getModRevision()).isGreaterThan(created.getModRevision());
            assertThat(moved.getLease()).as("the relock's lease").isNotEqualTo(created.getLease());
            assertThat(timeToLive(client, moved.getLease()).getTTL()).isPositive();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(timeToLive(client, created.getLease()).getTTL()).as("the first lease, revoked").isEqualTo(-1));

            // refresh: same key, same create revision
            assertThat(first.refresh()).isTrue();
            assertThat(relock.refresh()).isTrue();
            assertThat(storedOrFail(key).getCreateRevision()).isEqualTo(first.fencingToken());
            assertThat(first.fencingToken()).isEqualTo(relock.fencingToken());
            LockInfo info = b.newMutex(key).holder().orElseThrow();
            assertThat(info.owner()).isEqualTo("a");
            assertThat(info.fencingToken()).isEqualTo(first.fencingToken());

            long revisionDuringFirst = etcd.revision();
            assertThat(revisionDuringFirst).isGreaterThanOrEqualTo(first.fencingToken());
            mutex.unlock();
            assertThat(stored(client, key)).as("the key after unlock").isEmpty();

            Lease next = b.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
            assertThat(next.fencingToken())
                    .isEqualTo(storedOrFail(key).getCreateRevision())
                    .isGreaterThan(first.fencingToken())
                    .isGreaterThan(revisionDuringFirst);
            next.close();

            Lease again = a.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
            assertThat(again.fencingToken()).isGreaterThan(next.fencingToken());
            again.close();
        }
    }

    // ---- a holder that stops refreshing --------------------------------------------------------

    /**
     * A holder "paused" past its ttl: a 1 s lease without auto-refresh that nobody refreshes. etcd
     * expires it (the leader checks every 500 ms), and a waiter of another owner gets the lock, not
     * before the first hold's expiresAt and within about 2.5 s. The first lease's refresh then
     * finds the lock taken: false, and its onLost runs once.
     */
    @Test
    void aHolderThatIsNotRefreshedPastItsTtlLosesTheLockAndItsOnLostFiresOnce() throws Exception {
        String key = newKey("paused-holder");
        try (Dlm a = EtcdDlm.create(client, options("a").autoRefresh(false).build());
             Dlm b = EtcdDlm.create(client, options("b").build())) {
            long start = System.nanoTime();
            Lease held = a.newMutex(MutexOptions.builder(key).ttl(Duration.ofSeconds(1)).autoRefresh(false).build())
                    .tryLock().orElseThrow();
            AtomicInteger lost = new AtomicInteger();
            held.onLost(lost::incrementAndGet);

            Lease taken = b.newMutex(key, Duration.ofSeconds(10)).lock(Duration.ofSeconds(5));
            Instant takenAt = Instant.now();
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(takenAt).as("taken after the first hold's expiresAt").isAfterOrEqualTo(held.expiresAt());
            assertThat(waited).as("from the first hold to the takeover").isLessThan(Duration.ofMillis(2500));
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());

            assertThat(held.isValid()).isFalse();
            assertThat(held.refresh()).as("refresh of the lost hold").isFalse();
            assertThat(lost).as("onLost runs after the failed refresh").hasValue(1);
            assertThat(held.refresh()).isFalse();
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> lost.get() == 1);
            AtomicInteger late = new AtomicInteger();
            held.onLost(late::incrementAndGet);
            assertThat(late).as("onLost registered after the loss runs at once").hasValue(1);

            // the takeover is intact: the first owner's failed refresh touched nothing
            assertThat(storedOrFail(key).getValue().toString(StandardCharsets.UTF_8)).isEqualTo("b");
            assertThat(storedOrFail(key).getCreateRevision()).isEqualTo(taken.fencingToken());
            taken.close();
        }
    }

    /**
     * With auto-refresh, the member the client talks to is frozen (SIGSTOP) for longer than the ttl:
     * the refreshes get no answer, the hold passes its expiresAt, and onLost fires while the member is
     * paused. After it resumes, what dlm4j says agrees with etcd: the lease is not valid, and etcd
     * (whose leader expired the lease meanwhile) no longer shows "a" as the holder; another owner
     * gets the lock.
     */
    @Test
    void anAutoRefreshedHoldWhoseMemberIsPausedPastTheTtlIsLostAndEtcdAgrees() throws Exception {
        String key = newKey("member-paused");
        try (Dlm a = EtcdDlm.create(client, options("a").operationTimeout(Duration.ofSeconds(1)).build());
             Dlm b = EtcdDlm.create(client, options("b").build())) {
            Lease held = a.newMutex(MutexOptions.builder(key).ttl(Duration.ofSeconds(1)).autoRefresh(true).build())
                    .tryLock().orElseThrow();
            AtomicInteger lost = new AtomicInteger();
            held.onLost(lost::incrementAndGet);
            // auto-refresh works while the member runs: the hold outlives its 1 s ttl
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(held::isValid);

            EtcdMember member = etcd.member(0);
            long pausedAt = System.nanoTime();
            member.pause();
            try {
                await().atMost(Duration.ofSeconds(4)).until(() -> lost.get() == 1);
                assertThat(held.isValid()).isFalse();
                // keep it frozen for 3 s in all, well past the ttl
                long frozen = Duration.ofNanos(System.nanoTime() - pausedAt).toMillis();
                if (frozen < 3000) {
                    Thread.sleep(3000 - frozen); // the length of the fault, not a synchronisation
                }
            } finally {
                member.resume();
            }

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                Lease other = b.newMutex(key, Duration.ofSeconds(10)).tryLock().orElse(null);
                assertThat(other).as("another owner's tryLock after the resume").isNotNull();
            });
            assertThat(lost).hasValue(1);
            assertThat(held.isValid()).isFalse();
            boolean etcdSaysA = a.newMutex(key).holder().map(h -> h.owner().equals("a")).orElse(false);
            assertThat(etcdSaysA).as("holder() is 'a' iff the lease is valid").isEqualTo(held.isValid());
            b.newMutex(key).unlock();
        }
    }

    // ---- release -------------------------------------------------------------------------------

    /** A key written by someone else (no lease, value "intruder") is left alone by a's unlock and close. */
    @Test
    void aReleaseNeverDeletesAnotherOwnersKey() {
        String key = newKey("intruder");
        try (Dlm dlm = EtcdDlm.create(client, options("a").build())) {
            etcd.put(storeKey(key), "intruder");
            Mutex mutex = dlm.newMutex(key, Duration.ofSeconds(10));
            mutex.unlock();
            assertThat(etcd.get(storeKey(key))).as("after a's unlock").isEqualTo("intruder");
            etcd.delete(storeKey(key));

            // a held it, then its key was replaced behind its back: closing a's lease keeps the other key
            Lease lease = mutex.tryLock().orElseThrow();
            etcd.delete(storeKey(key));
            etcd.put(storeKey(key), "intruder");
            lease.close();
            assertThat(etcd.get(storeKey(key))).as("after a's lease was closed").isEqualTo("intruder");
            mutex.unlock();
            assertThat(etcd.get(storeKey(key))).isEqualTo("intruder");
            etcd.delete(storeKey(key));
        }
    }

    /** After unlock the key is gone and so is its lease: LeaseTimeToLive answers ttl -1. */
    @Test
    void aReleaseRevokesTheHoldsLease() {
        String key = newKey("revoke");
        try (Dlm dlm = EtcdDlm.create(client, options("a").build())) {
            Mutex mutex = dlm.newMutex(key, Duration.ofSeconds(30));
            Lease lease = mutex.tryLock().orElseThrow();
            long leaseId = storedOrFail(key).getLease();
            assertThat(leaseId).isNotZero();
            assertThat(timeToLive(client, leaseId).getTTL()).isPositive();

            mutex.unlock();
            assertThat(stored(client, key)).isEmpty();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(timeToLive(client, leaseId).getTTL()).as("ttl of the released hold's lease").isEqualTo(-1));
            assertThat(lease.isValid()).isFalse();

            // the same through Lease.close()
            Lease second = mutex.tryLock().orElseThrow();
            long secondLease = storedOrFail(key).getLease();
            second.close();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(timeToLive(client, secondLease).getTTL()).isEqualTo(-1));
        }
    }

    /** Each try grants a lease; a try that finds the lock held revokes its lease, so waiting leaks none. */
    @Test
    void triesThatFindTheLockHeldLeaveNoLeaseBehind() throws Exception {
        String key = newKey("no-leak");
        try (Dlm a = EtcdDlm.create(client, options("a").build());
             Dlm b = EtcdDlm.create(client, options("b").waitingInterval(Duration.ofMillis(50)).build())) {
            Lease held = a.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
            List<String> before = leaseIds(etcd.member(0));
            Mutex other = b.newMutex(key, Duration.ofSeconds(30));
            for (int i = 0; i < 3; i++) {
                assertThat(other.tryLock()).isEmpty();
            }
            assertThat(catchTimeout(other)).isTrue();
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(leaseIds(etcd.member(0))).as("leases after the failed tries")
                            .containsExactlyInAnyOrderElementsOf(before));
            held.close();
        }
    }

    private static boolean catchTimeout(Mutex mutex) throws InterruptedException {
        try {
            mutex.lock(Duration.ofMillis(500)).close();
            return false;
        } catch (io.dlm4j.LockTimeoutException expected) {
            return true;
        }
    }
}
