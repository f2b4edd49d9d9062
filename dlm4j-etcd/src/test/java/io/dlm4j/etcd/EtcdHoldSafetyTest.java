package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static io.dlm4j.etcd.EtcdTestSupport.options;
import static io.dlm4j.etcd.EtcdTestSupport.stored;
import static io.dlm4j.etcd.EtcdTestSupport.timeToLive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12 on etcd: a relock or refresh never shortens a hold (item 4); a refresh that races a
 * relock of the same owner does not mistake the moved key for a lost hold (item 8); an acquire whose
 * reply never came is undone through its own lease, also when its transaction reaches etcd after
 * the undo. The interleavings are forced through {@link ScriptedClient}, over a real etcd member.
 */
@WithEtcd
class EtcdHoldSafetyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

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

    private static EtcdLockStore store(Client through) {
        return new EtcdLockStore(through, false, EtcdDlm.DEFAULT_KEY_PREFIX, TIMEOUT, "etcd in EtcdHoldSafetyTest");
    }

    private static KeyValue storedOrFail(String key) {
        return stored(client, key).orElseThrow(() -> new AssertionError("no key for '" + key + "' in etcd"));
    }

    // ---- item 4: never shorten -----------------------------------------------------------------

    /**
     * The first relock of a hold moves it to a lease granted for what it has left (its own lease may
     * be the mark of an unanswered acquire, which an undo revokes); later relocks keep the lease.
     */
    @Test
    void aRelockWithAShorterTtlKeepsTheLongerExpiryAndReportsWhatEtcdHasLeft() {
        String key = newKey("shorter-relock");
        try (EtcdLockStore one = store(client); EtcdLockStore two = store(client)) {
            Acquisition first = one.acquire(key, "a", Duration.ofSeconds(30), "first");
            Acquisition relock = two.acquire(key, "a", Duration.ofSeconds(1), "relock");

            assertThat(relock.outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);
            assertThat(relock.hold().fencingToken()).isEqualTo(first.hold().fencingToken());
            assertThat(relock.hold().remaining()).as("what the 1 s relock reports").isGreaterThanOrEqualTo(Duration.ofSeconds(28));
            KeyValue after = storedOrFail(key);
            assertThat(timeToLive(client, after.getLease()).getTTL()).as("etcd's time left").isGreaterThanOrEqualTo(28);

            Acquisition again = one.acquire(key, "a", Duration.ofSeconds(1), "again");
            assertThat(again.hold().remaining()).as("what the second 1 s relock reports").isGreaterThanOrEqualTo(Duration.ofSeconds(27));
            assertThat(storedOrFail(key).getLease()).as("the second relock keeps the lease").isEqualTo(after.getLease());
            one.release(key, "a");
        }
    }

    @Test
    void aRelockWithALongerTtlMovesTheHoldToTheLongerLeaseAndKeepsTheToken() {
        String key = newKey("longer-relock");
        try (EtcdLockStore one = store(client); EtcdLockStore two = store(client)) {
            Acquisition first = one.acquire(key, "a", Duration.ofSeconds(2), "first");
            long lease = storedOrFail(key).getLease();
            Acquisition relock = two.acquire(key, "a", Duration.ofSeconds(30), "relock");

            assertThat(relock.outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);
            assertThat(relock.hold().fencingToken()).isEqualTo(first.hold().fencingToken());
            assertThat(relock.hold().remaining()).isEqualTo(Duration.ofSeconds(30));
            KeyValue after = storedOrFail(key);
            assertThat(after.getLease()).isNotEqualTo(lease);
            assertThat(timeToLive(client, after.getLease()).getTTL()).isGreaterThanOrEqualTo(29);
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(timeToLive(client, lease).getTTL()).as("the 2 s lease, revoked").isEqualTo(-1));
            one.release(key, "a");
        }
    }

    /** A keep-alive renews the lease to its own granted ttl, never less than it has left. */
    @Test
    void aRefreshWithAShorterTtlDoesNotShortenTheHold() {
        String key = newKey("shorter-refresh");
        try (EtcdLockStore one = store(client); EtcdLockStore two = store(client)) {
            one.acquire(key, "a", Duration.ofSeconds(30), "first");
            assertThat(two.refresh(key, "a", Duration.ofSeconds(1))).get()
                    .satisfies(left -> assertThat(left).isGreaterThanOrEqualTo(Duration.ofSeconds(29)));
            assertThat(two.refreshAll(List.of(new HoldToRefresh(key, "a", Duration.ofSeconds(1)))))
                    .singleElement().satisfies(left -> assertThat(left).get()
                            .satisfies(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofSeconds(29))));
            assertThat(timeToLive(client, storedOrFail(key).getLease()).getTTL()).isGreaterThanOrEqualTo(28);
            one.release(key, "a");
        }
    }

    /**
     * A hold on a lease shorter than the refresh's ttl (a relock with a shorter ttl than the
     * refresher's moved it there): the refresh extends it to its own ttl, as the store contract says.
     */
    @Test
    void aRefreshWithALongerTtlThanTheHoldsLeaseExtendsTheHoldToItsTtl() {
        String key = newKey("longer-refresh");
        try (EtcdLockStore one = store(client); EtcdLockStore two = store(client)) {
            Acquisition first = one.acquire(key, "a", Duration.ofSeconds(2), "first");
            assertThat(two.refresh(key, "a", Duration.ofSeconds(30))).get()
                    .satisfies(left -> assertThat(left).isGreaterThanOrEqualTo(Duration.ofSeconds(29)));
            assertThat(timeToLive(client, storedOrFail(key).getLease()).getTTL()).isGreaterThanOrEqualTo(28);
            assertThat(two.refreshAll(List.of(new HoldToRefresh(key, "a", Duration.ofSeconds(60)))))
                    .singleElement().satisfies(left -> assertThat(left).get()
                            .satisfies(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofSeconds(59))));
            KeyValue after = storedOrFail(key);
            assertThat(after.getCreateRevision()).as("the token").isEqualTo(first.hold().fencingToken());
            assertThat(timeToLive(client, after.getLease()).getTTL()).isGreaterThanOrEqualTo(58);
            one.release(key, "a");
        }
    }

    // ---- item 8: a refresh races a same-owner relock -------------------------------------------

    /** Between the refresh's read (lease A) and its keep-alive, a relock moves the key to B and A is revoked. */
    @Test
    void aRefreshWhoseLeaseARelockMovedAndRevokedRefreshesTheHoldOnItsNewLease() {
        String key = newKey("refresh-vs-relock");
        ScriptedClient scripted = new ScriptedClient(client);
        try (EtcdLockStore refresher = store(scripted.client()); EtcdLockStore relocker = store(client)) {
            refresher.acquire(key, "a", Duration.ofSeconds(2), "first");
            scripted.beforeNextKeepAlive(movedAndRevoked(key, relocker, Duration.ofSeconds(20)));
            assertThat(refresher.refresh(key, "a", Duration.ofSeconds(2))).as("the refresh after the relock moved the key")
                    .get().satisfies(left -> assertThat(left).isGreaterThanOrEqualTo(Duration.ofSeconds(19)));

            scripted.beforeNextKeepAlive(movedAndRevoked(key, relocker, Duration.ofSeconds(40)));
            assertThat(refresher.refreshAll(List.of(new HoldToRefresh(key, "a", Duration.ofSeconds(2)))))
                    .as("a batch refresh after the relock moved the key").singleElement()
                    .satisfies(left -> assertThat(left).get()
                            .satisfies(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofSeconds(39))));
            refresher.release(key, "a");
        }
    }

    private static java.util.function.LongConsumer movedAndRevoked(String key, LockStore relocker, Duration ttl) {
        return lease -> {
            assertThat(relocker.acquire(key, "a", ttl, "relock").outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);
            assertThat(storedOrFail(key).getLease()).as("the relock moved the key").isNotEqualTo(lease);
            await().atMost(Duration.ofSeconds(3)).until(() -> timeToLive(client, lease).getTTL() == -1);
        };
    }

    /** The same race without a script: relocks that move the key while the Dlm's lease refreshes it. */
    @Test
    void refreshesRacingRelocksThatMoveTheKeyNeverLoseTheHold() throws Exception {
        String key = newKey("refresh-vs-relocks");
        try (Dlm refreshing = EtcdDlm.create(client, options("a").build());
             EtcdLockStore relocker = store(client)) {
            Lease held = refreshing.newMutex(key, Duration.ofSeconds(2)).tryLock().orElseThrow();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Integer> relocks = CompletableFuture.supplyAsync(() -> {
                int moved = 0;
                for (int i = 0; !stop.get() && i < 200; i++) {
                    // each ttl is longer than the last, so each relock moves the key to a new lease
                    relocker.acquire(key, "a", Duration.ofSeconds(3 + i), "relock-" + i);
                    moved++;
                }
                return moved;
            });
            List<Boolean> refreshes = new ArrayList<>();
            try {
                while (!relocks.isDone()) {
                    refreshes.add(held.refresh());
                }
            } finally {
                stop.set(true);
            }
            assertThat(relocks.get(30, TimeUnit.SECONDS)).isPositive();
            assertThat(refreshes).as("refreshes while relocks moved the key").isNotEmpty().doesNotContain(false);
            assertThat(held.isValid()).isTrue();
            held.close();
        }
    }

    // ---- attempt marks: an acquire whose reply never came ---------------------------------------

    @Test
    void anInterruptedLockWhoseTransactionReachesEtcdAfterTheUndoCreatesNoHold() throws Exception {
        String key = newKey("late-create");
        ScriptedClient scripted = new ScriptedClient(client);
        try (Dlm dlm = EtcdDlm.create(scripted.client(), options("a").build())) {
            Mutex mutex = dlm.newMutex(key, Duration.ofSeconds(30));
            ScriptedClient.HeldTxn create = scripted.holdTxnAfter(0);
            CompletableFuture<Throwable> locker = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    mutex.lock().close();
                    locker.complete(null);
                } catch (Throwable e) {
                    locker.complete(e);
                }
            }, "locker");
            thread.start();
            create.awaitReached();
            thread.interrupt();
            assertThat(locker.get(10, TimeUnit.SECONDS)).as("lock() interrupted while its transaction was held")
                    .isInstanceOf(InterruptedException.class);

            create.letGo();
            Throwable late = lateAnswer(create);
            assertThat(stored(client, key)).as("the key once the late transaction was answered (%s)", late).isEmpty();
            assertThat(dlm.newMutex(key).holder()).isEmpty();
        }
    }

    @Test
    void anInterruptedRelockWhoseMoveReachesEtcdAfterTheUndoKeepsTheHold() throws Exception {
        for (Duration relockTtl : List.of(Duration.ofSeconds(60), Duration.ofSeconds(2))) { // moves, keeps the lease
            String key = newKey("late-move");
            ScriptedClient scripted = new ScriptedClient(client);
            try (Dlm holding = EtcdDlm.create(client, options("a").build());
                 Dlm relocking = EtcdDlm.create(scripted.client(), options("a").build())) {
                Lease held = holding.newMutex(key, Duration.ofSeconds(30)).tryLock().orElseThrow();
                Mutex mutex = relocking.newMutex(key, relockTtl);
                ScriptedClient.HeldTxn move = scripted.holdTxnAfter(1); // after the create transaction, which fails
                CompletableFuture<Throwable> locker = new CompletableFuture<>();
                Thread thread = new Thread(() -> {
                    try {
                        mutex.lock();
                        locker.complete(null);
                    } catch (Throwable e) {
                        locker.complete(e);
                    }
                }, "relocker");
                thread.start();
                move.awaitReached();
                thread.interrupt();
                assertThat(locker.get(10, TimeUnit.SECONDS)).as("relock (ttl %s) interrupted while its move was held", relockTtl)
                        .isInstanceOf(InterruptedException.class);
                assertThat(stored(client, key)).as("the hold after the undo of the relock (ttl %s)", relockTtl).isPresent();

                move.letGo();
                lateAnswer(move);
                LockInfo info = holding.newMutex(key).holder().orElseThrow(() ->
                        new AssertionError("the hold is gone after the late move of the relock with ttl " + relockTtl));
                assertThat(info.owner()).isEqualTo("a");
                assertThat(info.fencingToken()).isEqualTo(held.fencingToken());
                assertThat(held.refresh()).isTrue();
                held.close();
            }
        }
    }

    @Test
    void theUndoOfAnAcquireEndsTheHoldItCreatedButNotOneTheOwnerRelockedSince() {
        try (EtcdLockStore one = store(client); EtcdLockStore two = store(client)) {
            String created = newKey("undo-created");
            one.acquire(created, "a", Duration.ofSeconds(30), "attempt-1");
            long lease = storedOrFail(created).getLease();
            assertThat(one.undoAcquire(created, "a", "attempt-1")).isEqualTo(LockStore.Undo.RELEASED);
            assertThat(stored(client, created)).isEmpty();
            await().atMost(Duration.ofSeconds(3)).until(() -> timeToLive(client, lease).getTTL() == -1);
            assertThat(one.undoAcquire(created, "a", "attempt-1")).as("a second undo").isEqualTo(LockStore.Undo.NOTHING_TO_UNDO);

            String relocked = newKey("undo-relocked");
            one.acquire(relocked, "a", Duration.ofSeconds(30), "attempt-2");
            two.acquire(relocked, "a", Duration.ofSeconds(5), "attempt-3"); // keeps the 30 s lease, touches the key
            assertThat(one.undoAcquire(relocked, "a", "attempt-2")).isEqualTo(LockStore.Undo.NOTHING_TO_UNDO);
            assertThat(two.undoAcquire(relocked, "a", "attempt-3")).as("the undo of the relock").isEqualTo(LockStore.Undo.NOTHING_TO_UNDO);
            assertThat(stored(client, relocked)).as("the hold relocked after the attempt that created it").isPresent();
            one.release(relocked, "a");
        }
    }

    /**
     * The undo of an interrupted acquire revokes the attempt's lease; just before that revoke, the
     * held create transaction lands and the owner relocks the new hold through another store with a
     * shorter ttl. The relock counts on the hold, so the revoke must not end it.
     */
    @Test
    void anUndoWhoseLateCreateWasRelockedJustBeforeItsRevokeKeepsTheRelockedHold() throws Exception {
        String key = newKey("undo-window");
        ScriptedClient scripted = new ScriptedClient(client);
        try (EtcdLockStore interrupted = store(scripted.client()); EtcdLockStore relocker = store(client)) {
            ScriptedClient.HeldTxn create = scripted.holdTxnAfter(0);
            CompletableFuture<Throwable> acquire = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    interrupted.acquire(key, "a", Duration.ofSeconds(30), "interrupted");
                    acquire.complete(null);
                } catch (Throwable e) {
                    acquire.complete(e);
                }
            }, "acquirer");
            thread.start();
            create.awaitReached();
            thread.interrupt();
            assertThat(acquire.get(10, TimeUnit.SECONDS)).as("the interrupted acquire").isNotNull();

            AtomicReference<Acquisition> relock = new AtomicReference<>();
            scripted.beforeNextRevoke(lease -> {
                create.letGo();
                try {
                    assertThat(lateAnswer(create)).as("the late create transaction, before the undo's revoke").isNull();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                relock.set(relocker.acquire(key, "a", Duration.ofSeconds(2), "relock"));
            });
            interrupted.undoAcquire(key, "a", "interrupted");

            assertThat(relock.get()).as("the relock ran before the undo's revoke").isNotNull();
            assertThat(relock.get().outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);
            KeyValue held = stored(client, key).orElseThrow(() -> new AssertionError("the undo ended the hold relocked since"));
            assertThat(held.getCreateRevision()).isEqualTo(relock.get().hold().fencingToken());
            assertThat(relocker.refresh(key, "a", Duration.ofSeconds(2))).isPresent();
            relocker.release(key, "a");
        }
    }

    /**
     * Two processes of one owner (the review of issue 12): the relocker reads what the hold's lease
     * A has left (less than its ttl) and decides to move the key; before its move lands, the
     * refresher keeps A alive to A's granted ttl and reports it. The move must go to a lease that
     * outlasts that report, else the refresher's lease says valid after etcd deleted the key, and
     * another owner may take it meanwhile. Before the fix the key went to a lease of the relock's
     * ttl, 2 s shorter than what the refresher reported.
     */
    @Test
    void aRelockMovingTheKeyOutlastsAKeepAliveOfItsOldLeaseThatLandedFirst() throws Exception {
        String key = newKey("relock-vs-keepalive");
        ScriptedClient scripted = new ScriptedClient(client);
        try (EtcdLockStore refresher = store(client); EtcdLockStore relocker = store(scripted.client())) {
            refresher.acquire(key, "a", Duration.ofSeconds(10), "first");
            long leaseA = storedOrFail(key).getLease();
            await().atMost(Duration.ofSeconds(10)).until(() -> timeToLive(client, leaseA).getTTL() <= 7);

            ScriptedClient.HeldTxn move = scripted.holdTxnAfter(1); // after the create transaction, which fails
            CompletableFuture<Acquisition> relock = CompletableFuture.supplyAsync(
                    () -> relocker.acquire(key, "a", Duration.ofSeconds(8), "relock"));
            move.awaitReached();
            long reportedAt = System.nanoTime();
            Duration reported = refresher.refresh(key, "a", Duration.ofSeconds(10)).orElseThrow();
            move.letGo();
            assertThat(relock.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);

            KeyValue now = storedOrFail(key);
            long keyLeft = timeToLive(client, now.getLease()).getTTL();
            Duration sinceReport = Duration.ofNanos(System.nanoTime() - reportedAt);
            assertThat(Duration.ofSeconds(keyLeft + 1)) // etcd rounds down
                    .as("what the key has left on lease %d, against the refresher's report of %s, %s ago",
                            now.getLease(), reported, sinceReport)
                    .isGreaterThanOrEqualTo(reported.minus(sinceReport));
            refresher.release(key, "a");
        }
    }

    /** Waits for etcd's answer to a transaction let go late: null if it succeeded, else its failure. */
    private static Throwable lateAnswer(ScriptedClient.HeldTxn held) throws InterruptedException {
        try {
            held.answer().get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("etcd did not answer the late transaction", e);
        }
    }
}
