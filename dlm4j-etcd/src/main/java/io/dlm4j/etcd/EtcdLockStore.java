package io.dlm4j.etcd;

import io.dlm4j.etcd.AttemptLeases.Creation;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.Replies;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Locks in etcd v3: the key {@code <prefix><key>} holds the owner's name and is attached to a
 * lease, one per hold, so that etcd deletes it when the lease expires. The fencing token is the
 * key's create revision: cluster-wide, monotonic and durable; a refresh keeps it.
 *
 * <p>etcd leases last whole seconds, with a server minimum (about 1.5 times the election timeout):
 * a ttl is rounded up to whole seconds and etcd may grant more, and the store reports what was granted.
 *
 * <p><b>Never shorter.</b> A relock by the owner keeps the later expiry: the key stays on its lease
 * if that has the requested time left, else it moves to a lease that outlasts whatever its old
 * lease can still be kept alive to, by any process of the owner (see {@link #relock}); a refresh
 * trusts a keep-alive only once it has seen the key still on that lease afterwards.
 * A refresh is a keep-alive, which renews a lease to its granted ttl and so never shortens it; where
 * that ttl is less than the refresh's (a shorter relock moved the hold there), the hold then moves
 * to a lease of the refresh's ttl. A refresh whose lease is gone reads the key again: a relock may
 * have moved it to another lease and revoked the old one.
 *
 * <p><b>Attempt marks.</b> The lease an acquire grants is the attempt's mark: only that attempt puts
 * the key on it, and the key stays on it only until the owner puts it again (a relock or a refresh
 * that moves it never keeps a lease the key was created on: {@link #relock}). So revoking the
 * attempt's lease ends exactly the hold the attempt created, if nobody touched it since, and
 * nothing else ({@link AttemptLeases} remembers which lease it was). {@link #undoAcquire} of an
 * attempt whose reply the engine never had, by where the attempt's create transaction got to:
 * <ol>
 *   <li>never sent (the grant's reply did not come): nothing to undo; a lease granted meanwhile holds
 *       no key and expires by itself;</li>
 *   <li>applied before the undo: the key is on the attempt's lease; the undo's revoke deletes it;</li>
 *   <li>applied after the undo, or never: etcd fails a whole transaction that puts a key on a lease
 *       it does not know, so the late create transaction creates nothing;</li>
 *   <li>applied, then the owner relocked the key (through another Dlm) before the undo's revoke:
 *       the relock moved the key off the attempt's lease, so the revoke leaves it: that relock counts
 *       on it. A relock racing the revoke either moves the key first, or finds it gone and takes
 *       the lock anew;</li>
 *   <li>answered "held" (the owner held it already, so the attempt went on as a relock): the attempt
 *       created nothing and the undo changes nothing; a late move onto its lease only extends the
 *       owner's hold, as the relock asked.</li>
 * </ol>
 * A keep-alive does not move the key, so it does not clear the mark; the engine refreshes only holds
 * it had a reply for, which an unanswered attempt cannot have created while they lasted.
 */
final class EtcdLockStore implements LockStore {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdLockStore.class);
    private static final ByteSequence PING_KEY = ByteSequence.from("dlm4j-ping", StandardCharsets.UTF_8);
    /**
     * How often one call goes round when the key changes under it (a relock or a release of the
     * same owner through another Dlm between its read and its write); past that it fails.
     */
    private static final int ROUNDS = 3;

    private final Client client;
    private final boolean ownsClient;
    private final KV kv;
    private final Lease leases;
    private final String prefix;
    private final Duration timeout;
    private final String endpoints;
    private final EtcdReleaseNotices releases;
    private final Set<CompletableFuture<?>> pendingRevokes = ConcurrentHashMap.newKeySet();
    private final AttemptLeases attempts = new AttemptLeases();

    EtcdLockStore(Client client, boolean ownsClient, String prefix, Duration timeout, String endpoints) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.prefix = prefix;
        this.timeout = timeout;
        this.endpoints = endpoints;
        this.releases = new EtcdReleaseNotices(client.getWatchClient(), prefix, timeout);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        return acquire(key, owner, ttl, null);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        ByteSequence lockKey = key(key);
        ByteSequence ownerValue = bytes(owner);
        long start = System.nanoTime();
        LeaseGrantResponse lease = await(leases.grant(wholeSeconds(ttl)));
        Duration granted = Duration.ofSeconds(lease.getTTL());
        for (int round = 0; round < ROUNDS; round++) {
            attempts.sending(attempt, lease.getID(), granted);
            TxnResponse txn = await(kv.txn()
                    .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(lockKey, ownerValue, PutOption.builder().withLeaseId(lease.getID()).build()))
                    .Else(Op.get(lockKey, GetOption.DEFAULT))
                    .commit());
            if (txn.isSucceeded()) {
                // kept for an undo: the engine may still give this acquire up (a Dlm closed under it)
                attempts.answered(attempt, Creation.CREATED);
                if (System.nanoTime() - start >= granted.toNanos() && !stillAlive(lease.getID())) {
                    // The lease ran out while the request was on its way (the etcd 3.4.3 Jepsen finding):
                    // the key went with it, so this is no hold.
                    attempts.forget(attempt);
                    return Acquisition.heldBy(new StoredHold("(nobody: the new lease expired in flight)", 0, Duration.ZERO));
                }
                return Acquisition.acquired(new StoredHold(owner, txn.getHeader().getRevision(), granted));
            }
            attempts.answered(attempt, Creation.NOT_CREATED);
            List<KeyValue> found = txn.getGetResponses().get(0).getKvs();
            KeyValue current = found.isEmpty() ? null : found.get(0);
            if (current == null || !current.getValue().equals(ownerValue)) {
                attempts.forget(attempt);
                revokeLater(lease.getID());
                return heldBy(current);
            }
            Optional<Duration> relocked = relock(lockKey, current, lease, start);
            if (relocked.isPresent()) {
                attempts.forget(attempt);
                return Acquisition.refreshed(new StoredHold(owner, current.getCreateRevision(), relocked.get()));
            }
            // the hold changed between the read and the relock's write: look again
        }
        attempts.forget(attempt);
        revokeLater(lease.getID());
        throw new IllegalStateException("the hold on '" + key + "' changed under each of " + ROUNDS
                + " relocks in a row (the same owner relocking or releasing it elsewhere)");
    }

    private Acquisition heldBy(KeyValue current) {
        if (current == null) {
            return Acquisition.heldBy(new StoredHold("(nobody: released just now)", 0, Duration.ZERO));
        }
        long left = await(leases.timeToLive(current.getLease(), LeaseOption.DEFAULT)).getTTL();
        return Acquisition.heldBy(new StoredHold(current.getValue().toString(StandardCharsets.UTF_8),
                current.getCreateRevision(), Duration.ofSeconds(Math.max(0, left))));
    }

    /**
     * The owner's relock of the hold {@code current}: the later of its expiry and the fresh lease's.
     * The hold stays on its lease if that has the requested time left and the key was put since it
     * was created (at version 1 its lease may be the mark of an acquire whose reply never came,
     * which that acquire's undo revokes). Otherwise the key moves, to a lease that outlasts
     * anything its current lease can still become: any process of the owner may keep that lease
     * alive, up to its granted ttl, at any moment until the move (a refresh that read the key
     * before the move), so the new lease lasts longer than that granted ttl from the move on. The
     * leases not used are revoked.
     *
     * @param freshGrantedAt {@link System#nanoTime()} before {@code fresh} was granted
     * @return how long the hold now lasts; empty if the key changed after {@code current} was read
     */
    private Optional<Duration> relock(ByteSequence lockKey, KeyValue current, LeaseGrantResponse fresh,
                                      long freshGrantedAt) {
        LeaseTimeToLiveResponse lived = current.getLease() == 0 ? null
                : await(leases.timeToLive(current.getLease(), LeaseOption.DEFAULT));
        long left = lived == null ? -1 : lived.getTTL();
        if (current.getVersion() > 1 && left >= fresh.getTTL()) {
            revokeLater(fresh.getID());
            return Optional.of(Duration.ofSeconds(left));
        }
        // etcd counts whole seconds, rounded down: one more, so that the move never shortens
        long renewable = lived == null ? 0 : Math.max(left, lived.getGrantedTTL()) + 1;
        long freshLeft = fresh.getTTL() - ceilSeconds(System.nanoTime() - freshGrantedAt);
        LeaseGrantResponse target = freshLeft > renewable ? fresh
                : await(leases.grant(Math.max(fresh.getTTL(), renewable)));
        boolean written = await(kv.txn()
                .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getModRevision())))
                .Then(Op.put(lockKey, current.getValue(), PutOption.builder().withLeaseId(target.getID()).build()))
                .commit()).isSucceeded();
        boolean grantedHere = target != fresh;
        if (!written) {
            if (grantedHere) {
                revokeLater(target.getID()); // the caller goes round again with its fresh lease
            }
            return Optional.empty();
        }
        if (current.getLease() != 0) {
            revokeLater(current.getLease());
        }
        if (grantedHere) {
            revokeLater(fresh.getID());
        }
        return Optional.of(Duration.ofSeconds(target.getTTL()));
    }

    private static long ceilSeconds(long nanos) {
        return (Math.max(0, nanos) + 999_999_999L) / 1_000_000_000L;
    }

    /**
     * Revokes the attempt's lease, unless its create transaction is known to have failed. The key is
     * on that lease only while nobody has put it since the attempt created it (a relock or refresh
     * of the owner moves it off: see {@link #relock}), so the revoke ends exactly the hold the
     * attempt created and nothing else; and a create transaction that reaches etcd after the revoke
     * fails as a whole. See the class comment for the interleavings.
     */
    @Override
    public Undo undoAcquire(String key, String owner, String attempt) {
        Optional<AttemptLeases.Attempt> known = attempts.take(attempt);
        if (known.isEmpty() || known.get().creation() == Creation.NOT_CREATED) {
            return Undo.NOTHING_TO_UNDO;
        }
        long lease = known.get().leaseId();
        // read first only to say what the revoke did; the revoke alone decides what ends
        boolean created = get(key).map(found -> found.getLease() == lease).orElse(false);
        revokeNow(lease);
        return created ? Undo.RELEASED : Undo.NOTHING_TO_UNDO;
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        return refreshFrom(key, owner, ttl, 0);
    }

    /**
     * Keeps the owner's hold alive on the lease it is on now. A lease that is gone is no lost hold
     * yet: a relock of the same owner may have moved the key to another lease and revoked this one
     * after the key was read, so the key is read again. A lease granted for less than {@code ttl} (a
     * relock with a shorter ttl moved the hold there) is kept alive, and the hold then moves to a
     * lease of {@code ttl}.
     *
     * @param failedLease a lease whose keep-alive just found it gone (0 if none)
     */
    private Optional<Duration> refreshFrom(String key, String owner, Duration ttl, long failedLease) {
        long failed = failedLease;
        for (int round = 0; round < ROUNDS; round++) {
            Optional<KeyValue> current = get(key);
            if (current.isEmpty() || !current.get().getValue().toString(StandardCharsets.UTF_8).equals(owner)
                    || current.get().getLease() == failed) {
                return Optional.empty();
            }
            long lease = current.get().getLease();
            long extended = await(keepAliveOnce(lease));
            if (extended <= 0) {
                failed = lease;
                continue;
            }
            Optional<KeyValue> after = get(key);
            if (after.isEmpty() || after.get().getCreateRevision() != current.get().getCreateRevision()) {
                failed = 0; // released or taken anew meanwhile: look again, which finds it gone
                continue;
            }
            if (after.get().getLease() != lease) {
                // a relock of the owner moved it meanwhile: what this lease lasts says nothing of the
                // hold, but the lease it moved to does, and any later move only lengthens it (see relock)
                long left = await(leases.timeToLive(after.get().getLease(), LeaseOption.DEFAULT)).getTTL();
                if (left > 0) {
                    return Optional.of(Duration.ofSeconds(left));
                }
                failed = 0;
                continue;
            }
            if (extended >= wholeSeconds(ttl)) {
                return Optional.of(Duration.ofSeconds(extended));
            }
            Optional<Duration> moved = moveToNewLease(key(key), current.get(), ttl);
            if (moved.isPresent()) {
                return moved;
            }
            failed = 0; // the key changed after it was read: look again
        }
        throw new IllegalStateException("the hold on '" + key + "' changed under each of " + ROUNDS
                + " refreshes in a row (the same owner relocking it elsewhere)");
    }

    /** Puts the unchanged hold {@code current} on a new lease of {@code ttl}; empty if the key changed. */
    private Optional<Duration> moveToNewLease(ByteSequence lockKey, KeyValue current, Duration ttl) {
        LeaseGrantResponse fresh = await(leases.grant(wholeSeconds(ttl)));
        boolean moved = await(kv.txn()
                .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getModRevision())))
                .Then(Op.put(lockKey, current.getValue(), PutOption.builder().withLeaseId(fresh.getID()).build()))
                .commit()).isSucceeded();
        revokeLater(moved ? current.getLease() : fresh.getID());
        return moved ? Optional.of(Duration.ofSeconds(fresh.getTTL())) : Optional.empty();
    }

    /** The lease's new ttl in seconds after one keep-alive; 0 if etcd no longer has the lease. */
    private CompletableFuture<Long> keepAliveOnce(long lease) {
        return leases.keepAliveOnce(lease).handle((alive, failure) -> {
            if (failure == null) {
                return Math.max(0, alive.getTTL());
            }
            if (isLeaseNotFound(failure)) {
                return 0L;
            }
            throw failure instanceof CompletionException known ? known : new CompletionException(failure);
        });
    }

    private static boolean isLeaseNotFound(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND
                    || cause instanceof StatusRuntimeException grpc && grpc.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return true; // jetcd reports a missing lease either way, by call
            }
        }
        return false;
    }

    /**
     * One transaction reads every key, then the keep-alives of the holds still ours go out
     * together: etcd's keep-alive takes one lease per request, so a batch costs one round trip
     * plus one keep-alive per hold, sent in parallel rather than one after another. A hold whose
     * lease is gone, or was granted for less than the hold's ttl, is looked at again on its own, as
     * {@link #refresh} does.
     */
    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        TxnResponse reads = await(kv.txn()
                .Then(holds.stream().map(h -> Op.get(key(h.key()), GetOption.DEFAULT)).toArray(Op[]::new))
                .commit());
        List<Long> leasesRead = new ArrayList<>(holds.size());
        List<CompletableFuture<Long>> extensions = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            Optional<KeyValue> current = reads.getGetResponses().get(i).getKvs().stream().findFirst();
            if (current.isPresent() && current.get().getValue().equals(bytes(holds.get(i).owner()))) {
                leasesRead.add(current.get().getLease());
                extensions.add(keepAliveOnce(current.get().getLease()));
            } else {
                leasesRead.add(0L);
                extensions.add(CompletableFuture.completedFuture(-1L));
            }
        }
        await(CompletableFuture.allOf(extensions.toArray(CompletableFuture[]::new)));
        // read again after the keep-alives: a key a relock moved meanwhile is looked at on its own (see refreshFrom)
        TxnResponse after = await(kv.txn()
                .Then(holds.stream().map(h -> Op.get(key(h.key()), GetOption.DEFAULT)).toArray(Op[]::new))
                .commit());
        List<Optional<Duration>> results = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            long extended = extensions.get(i).join();
            HoldToRefresh hold = holds.get(i);
            long leaseRead = leasesRead.get(i);
            boolean moved = after.getGetResponses().get(i).getKvs().stream().findFirst()
                    .map(now -> now.getLease() != leaseRead).orElse(true);
            if (extended > 0 && moved) {
                results.add(refreshFrom(hold.key(), hold.owner(), hold.ttl(), 0));
            } else if (extended < 0) {
                results.add(Optional.empty());
            } else if (extended == 0) {
                results.add(refreshFrom(hold.key(), hold.owner(), hold.ttl(), leasesRead.get(i)));
            } else if (extended < wholeSeconds(hold.ttl())) {
                results.add(refreshFrom(hold.key(), hold.owner(), hold.ttl(), 0)); // on too short a lease
            } else {
                results.add(Optional.of(Duration.ofSeconds(extended)));
            }
        }
        return results;
    }

    /** Keys per batch: below etcd's default limit of 128 operations in one transaction. */
    @Override
    public int refreshBatchSize() {
        return 100;
    }

    /** Deletes the key only if this owner holds it, then revokes the hold's lease. */
    @Override
    public boolean release(String key, String owner) {
        ByteSequence lockKey = key(key);
        TxnResponse txn = await(kv.txn()
                .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.value(bytes(owner))))
                .Then(Op.get(lockKey, GetOption.DEFAULT), Op.delete(lockKey, DeleteOption.DEFAULT))
                .commit());
        if (!txn.isSucceeded()) {
            return false;
        }
        txn.getGetResponses().get(0).getKvs().forEach(kv -> revokeLater(kv.getLease()));
        return true;
    }

    @Override
    public Optional<StoredHold> read(String key) {
        Optional<KeyValue> current = get(key);
        if (current.isEmpty()) {
            return Optional.empty();
        }
        long lease = current.get().getLease();
        long left = lease == 0 ? 0 : await(leases.timeToLive(lease, LeaseOption.DEFAULT)).getTTL();
        if (left < 0) {
            return Optional.empty(); // the lease is gone; etcd deletes the key with it
        }
        return Optional.of(new StoredHold(current.get().getValue().toString(StandardCharsets.UTF_8),
                current.get().getCreateRevision(), Duration.ofSeconds(left)));
    }

    @Override
    public Subscription onRelease(String key, Runnable wake) {
        return releases.subscribe(key, wake);
    }

    @Override
    public Duration ping() {
        long start = System.nanoTime();
        await(kv.get(PING_KEY, GetOption.builder().withCountOnly(true).build()));
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public String describe() {
        return "etcd at " + endpoints;
    }

    @Override
    public void close() {
        releases.close();
        try {
            CompletableFuture.allOf(pendingRevokes.toArray(CompletableFuture[]::new))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("some lease revocations did not finish before close; those leases expire by themselves", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsClient) {
            client.close();
        }
    }

    /** etcd leases count whole seconds: round up, so that a hold never ends before its ttl. */
    static long wholeSeconds(Duration ttl) {
        long seconds = ttl.getSeconds();
        return ttl.getNano() > 0 ? seconds + 1 : Math.max(1, seconds);
    }

    private Optional<KeyValue> get(String key) {
        return await(kv.get(key(key))).getKvs().stream().findFirst();
    }

    private boolean stillAlive(long leaseId) {
        return await(leases.timeToLive(leaseId, LeaseOption.DEFAULT)).getTTL() > 0;
    }

    /** Revokes and waits for etcd's answer; a lease etcd no longer has is revoked already. */
    private void revokeNow(long leaseId) {
        await(leases.revoke(leaseId).handle((revoked, failure) -> {
            if (failure != null && !isLeaseNotFound(failure)) {
                throw failure instanceof CompletionException known ? known : new CompletionException(failure);
            }
            return revoked;
        }));
    }

    /** Revokes in the background; {@link #close()} waits for what is still on its way. */
    private void revokeLater(long leaseId) {
        CompletableFuture<?> revoke = leases.revoke(leaseId);
        pendingRevokes.add(revoke);
        revoke.whenComplete((ok, failure) -> {
            pendingRevokes.remove(revoke);
            if (failure != null) {
                LOG.debug("revoking lease {} failed; it expires by itself", leaseId, failure);
            }
        });
    }

    private ByteSequence key(String key) {
        return bytes(prefix + key);
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private <T> T await(CompletableFuture<T> reply) {
        return Replies.await(reply, timeout, "etcd");
    }
}
