package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * A {@link Dlm} on a MongoDB collection, with documents the Go {@code mongolock} package reads
 * and writes too: {@code {_id: key, owner, expiry}} (plus {@code fence}), and the TTL index
 * {@code expired_locks} on {@code expiry} that cleans up expired documents.
 *
 * <p>Needs MongoDB 4.4 or later. Expiry is judged by the server's clock. Lock writes use write
 * concern majority, journaled, unless the collection has a write concern of its own.
 */
public final class MongoDlm {

    public static final String DEFAULT_COLLECTION = "locks";

    private static final Logger LOG = LoggerFactory.getLogger(MongoDlm.class);

    private MongoDlm() {
    }

    /** A Dlm on {@code collection}; closing it leaves the collection's client open. */
    public static Dlm create(MongoCollection<Document> collection, DlmOptions options) {
        Objects.requireNonNull(collection, "collection must not be null");
        Objects.requireNonNull(options, "options must not be null");
        return create(new MongoLockStore(collection, options.operationTimeout(), null, null), options);
    }

    /** A Dlm that owns {@code client} and closes it on {@link Dlm#close()}. */
    static Dlm createOwning(MongoClient client, MongoCollection<Document> collection, String address,
                            DlmOptions options) {
        return create(new MongoLockStore(collection, options.operationTimeout(), address, client), options);
    }

    private static Dlm create(MongoLockStore store, DlmOptions options) {
        try {
            store.prepare();
        } catch (RuntimeException e) {
            // Not fatal: the server may come up later; every operation prepares again first.
            LOG.warn("{}: could not create the TTL index or read the server's clock yet: {}",
                    store.describe(), e.getMessage());
        }
        return new StoreBackedDlm(store, options);
    }
}
