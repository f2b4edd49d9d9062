package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;
import io.etcd.jetcd.Client;

import java.util.Objects;

/**
 * A {@link Dlm} on etcd v3 (3.4 or later) through jetcd. A hold is a key put with a lease of its
 * own, in one transaction if the key is absent; the fencing token is the key's create revision.
 * Waiters watch for deletions, through one watch per Dlm. Ttls are rounded up to whole seconds and
 * may be raised to etcd's minimum lease ttl; {@code Lease.expiresAt()} shows what etcd granted.
 * See docs/ETCD.md.
 */
public final class EtcdDlm {

    /** The default prefix of every lock key. */
    public static final String DEFAULT_KEY_PREFIX = "dlm4j/";

    private EtcdDlm() {
    }

    /** A Dlm on the cluster {@code client} talks to; closing it leaves the client open. */
    public static Dlm create(Client client, DlmOptions options) {
        return create(client, options, DEFAULT_KEY_PREFIX);
    }

    /** As {@link #create(Client, DlmOptions)}, with every lock key under {@code keyPrefix}. */
    public static Dlm create(Client client, DlmOptions options, String keyPrefix) {
        Objects.requireNonNull(client, "client must not be null");
        Objects.requireNonNull(options, "options must not be null");
        Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
        return new StoreBackedDlm(new EtcdLockStore(client, false, keyPrefix, options.operationTimeout(),
                ClientEndpoints.of(client)), options);
    }

    static Dlm createOwning(Client client, String endpoints, String keyPrefix, DlmOptions options) {
        return new StoreBackedDlm(new EtcdLockStore(client, true, keyPrefix, options.operationTimeout(), endpoints),
                options);
    }
}
