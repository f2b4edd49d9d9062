package io.dlm4j.etcd;

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
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 */
final class EtcdLockStore implements LockStore {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdLockStore.class);
    private static final ByteSequence PING_KEY = ByteSequence.from("dlm4j-ping", StandardCharsets.UTF_8);

    private final Client client;
    private final boolean ownsClient;
    private final KV kv;
    private final Lease leases;
    private final String prefix;
    private final Duration timeout;
    private final String endpoints;
    private final ReleaseWatch releases;
    private final Set<CompletableFuture<?>> pendingRevokes = ConcurrentHashMap.newKeySet();

    EtcdLockStore(Client client, boolean ownsClient, String prefix, Duration timeout, String endpoints) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.prefix = prefix;
        this.timeout = timeout;
        this.endpoints = endpoints;
        this.releases = new ReleaseWatch(client.getWatchClient(), prefix, timeout);
    }

    @Override
    public Acquisition acquire(String key, String owner, Duration ttl) {
        ByteSequence lockKey = key(key);
        ByteSequence ownerValue = bytes(owner);
        long start = System.nanoTime();
        LeaseGrantResponse lease = await(leases.grant(wholeSeconds(ttl)));
        TxnResponse txn = await(kv.txn()
                .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(lockKey, ownerValue, PutOption.builder().withLeaseId(lease.getID()).build()))
                .Else(Op.get(lockKey, GetOption.DEFAULT))
                .commit());
        if (txn.isSucceeded()) {
            Duration granted = Duration.ofSeconds(lease.getTTL());
            if (System.nanoTime() - start >= granted.toNanos() && !stillAlive(lease.getID())) {
                // The lease ran out while the request was on its way (the etcd 3.4.3 Jepsen finding):
                // the key went with it, so this is no hold.
                return Acquisition.heldBy(new StoredHold("(nobody: the new lease expired in flight)", 0, Duration.ZERO));
            }
            return Acquisition.acquired(new StoredHold(owner, txn.getHeader().getRevision(), granted));
        }
        List<KeyValue> found = txn.getGetResponses().get(0).getKvs();
        KeyValue current = found.isEmpty() ? null : found.get(0);
        if (current != null && current.getValue().equals(ownerValue) && moveToLease(lockKey, current, lease.getID())) {
            // a relock: the hold now lives on the new lease, with the new ttl, and keeps its token
            revokeLater(current.getLease());
            return Acquisition.refreshed(new StoredHold(owner, current.getCreateRevision(),
                    Duration.ofSeconds(lease.getTTL())));
        }
        revokeLater(lease.getID());
        if (current == null) {
            return Acquisition.heldBy(new StoredHold("(nobody: released just now)", 0, Duration.ZERO));
        }
        long left = await(leases.timeToLive(current.getLease(), LeaseOption.DEFAULT)).getTTL();
        return Acquisition.heldBy(new StoredHold(current.getValue().toString(StandardCharsets.UTF_8),
                current.getCreateRevision(), Duration.ofSeconds(Math.max(0, left))));
    }

    /** Puts the same owner's key on another lease, if it is still the same hold (same create revision). */
    private boolean moveToLease(ByteSequence lockKey, KeyValue current, long leaseId) {
        return await(kv.txn()
                .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.createRevision(current.getCreateRevision())),
                        new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.value(current.getValue())))
                .Then(Op.put(lockKey, current.getValue(), PutOption.builder().withLeaseId(leaseId).build()))
                .commit()).isSucceeded();
    }

    @Override
    public Optional<Duration> refresh(String key, String owner, Duration ttl) {
        Optional<KeyValue> current = get(key);
        if (current.isEmpty() || !current.get().getValue().toString(StandardCharsets.UTF_8).equals(owner)) {
            return Optional.empty();
        }
        long extended = await(leases.keepAliveOnce(current.get().getLease())).getTTL();
        return extended > 0 ? Optional.of(Duration.ofSeconds(extended)) : Optional.empty();
    }

    /**
     * One transaction reads every key, then the keep-alives of the holds still ours go out
     * together: etcd's keep-alive takes one lease per request, so a batch costs one round trip
     * plus one keep-alive per hold, sent in parallel rather than one after another.
     */
    @Override
    public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
        TxnResponse reads = await(kv.txn()
                .Then(holds.stream().map(h -> Op.get(key(h.key()), GetOption.DEFAULT)).toArray(Op[]::new))
                .commit());
        List<CompletableFuture<Optional<Duration>>> extensions = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            Optional<KeyValue> current = reads.getGetResponses().get(i).getKvs().stream().findFirst();
            if (current.isPresent() && current.get().getValue().equals(bytes(holds.get(i).owner()))) {
                extensions.add(leases.keepAliveOnce(current.get().getLease())
                        .thenApply(alive -> alive.getTTL() > 0
                                ? Optional.of(Duration.ofSeconds(alive.getTTL())) : Optional.<Duration>empty()));
            } else {
                extensions.add(CompletableFuture.completedFuture(Optional.empty()));
            }
        }
        await(CompletableFuture.allOf(extensions.toArray(CompletableFuture[]::new)));
        return extensions.stream().map(CompletableFuture::join).toList();
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
