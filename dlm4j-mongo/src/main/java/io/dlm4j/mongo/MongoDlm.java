package io.dlm4j.mongo;

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
 * and writes too: {@code {_id: key, owner, expiry}} (plus {@code fence}), and the Go package's index
 * {@code expired_locks} on {@code expiry} (not a TTL index). The Dlm prunes documents whose expiry
 * passed over an hour ago every 10 minutes; {@link MongoMaintenance} prunes on demand and migrates
 * the TTL index that earlier versions created.
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
        return createOn(new MongoLockStore(collection, options.operationTimeout(), null, null), options);
    }

    static Dlm createOn(MongoLockStore store, DlmOptions options) {
        try {
            store.prepare();
        } catch (RuntimeException e) {
            // Not fatal: the server may come up later; every operation prepares again first.
            LOG.warn("{}: could not create the index or read the server's clock yet: {}",
                    store.describe(), e.getMessage());
        }
        return new StoreBackedDlm(store, options);
    }
}
