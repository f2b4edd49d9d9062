package io.dlm4j.bench;

import io.dlm4j.DlmOptions;
import io.dlm4j.etcd.EtcdDlm;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The libraries measured on etcd. */
final class EtcdLibraries {

    /** Long enough that a lease granted once per thread outlives a fork; the bench never lets it lapse. */
    private static final long THREAD_LEASE_SECONDS = 600;

    private EtcdLibraries() {
    }

    static LockClient create(String library, List<String> endpoints, Duration ttl) {
        Client client = Client.builder().endpoints(endpoints.stream().map(e -> "http://" + e).toArray(String[]::new)).build();
        return switch (library) {
            case "raw" -> new RawEtcd(client, false);
            case "polling" -> new RawEtcd(client, true);
            case "dlm4j" -> new DlmClient(EtcdDlm.create(client, DlmOptions.builder().defaultTtl(ttl).build()), ttl, client::close);
            case "jetcd-lock" -> new JetcdLock(client);
            default -> {
                client.close();
                throw new IllegalArgumentException("library must be one of raw, polling, dlm4j, jetcd-lock for etcd, was '"
                        + library + "'");
            }
        };
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static long grantLease(Client client) throws Exception {
        return client.getLeaseClient().grant(THREAD_LEASE_SECONDS).get(10, TimeUnit.SECONDS).getID();
    }

    /**
     * The minimum a lock needs in etcd: a transaction that puts the key if absent, on a lease granted
     * once per thread, and a transaction that deletes it if it still holds the owner.
     */
    static final class RawEtcd implements LockClient {
        private final Client client;
        private final KV kv;
        private final boolean polling;

        RawEtcd(Client client, boolean polling) {
            this.client = client;
            this.kv = client.getKVClient();
            this.polling = polling;
        }

        @Override
        public boolean canWait() {
            return polling;
        }

        @Override
        public LockHandle handle(String key, String owner) throws Exception {
            ByteSequence name = bytes((polling ? "poll/" : "raw/") + key);
            ByteSequence value = bytes(owner);
            long lease = grantLease(client);
            PollingLock.Attempt attempt = new PollingLock.Attempt() {
                @Override
                public boolean tryLock() throws Exception {
                    return kv.txn()
                            .If(new Cmp(name, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                            .Then(Op.put(name, value, PutOption.builder().withLeaseId(lease).build()))
                            .commit().get(10, TimeUnit.SECONDS).isSucceeded();
                }

                @Override
                public void unlock() throws Exception {
                    kv.txn()
                            .If(new Cmp(name, Cmp.Op.EQUAL, CmpTarget.value(value)))
                            .Then(Op.delete(name, DeleteOption.DEFAULT))
                            .commit().get(10, TimeUnit.SECONDS);
                }
            };
            return polling ? new PollingLock(attempt) : new TryOnlyLock(attempt, key);
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /** jetcd's Lock client (etcd's v3lock service), on a lease granted once per thread. */
    static final class JetcdLock implements LockClient {
        private final Client client;
        private final Lock locks;

        JetcdLock(Client client) {
            this.client = client;
            this.locks = client.getLockClient();
        }

        @Override
        public LockHandle handle(String key, String owner) throws Exception {
            ByteSequence name = bytes("jetcd-lock/" + key);
            long lease = grantLease(client);
            return new LockHandle() {
                private ByteSequence ownership;

                @Override
                public void lock() throws Exception {
                    ownership = locks.lock(name, lease).get().getKey();
                }

                @Override
                public void unlock() throws Exception {
                    locks.unlock(ownership).get(10, TimeUnit.SECONDS);
                }
            };
        }

        @Override
        public void close() {
            client.close();
        }
    }
}
