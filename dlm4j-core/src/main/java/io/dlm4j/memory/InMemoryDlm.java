package io.dlm4j.memory;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.engine.StoreBackedDlm;

import java.util.Objects;

/**
 * A backend for one JVM: every Dlm made here shares one lock table, as processes share a server.
 * Useful for tests, demos and applications that run as a single process. Expiry is judged by
 * {@link System#nanoTime()}; fencing tokens count up per key for the life of the JVM.
 */
public final class InMemoryDlm {

    private InMemoryDlm() {
    }

    public static Dlm create(DlmOptions options) {
        Objects.requireNonNull(options, "options must not be null");
        return new StoreBackedDlm(new InMemoryLockStore(LockTable.SHARED), options);
    }

    /**
     * For tests: drops the hold on {@code key} as a cleanup of expired records would on a server.
     * The key's fencing counter stays.
     */
    public static void forgetRecord(String key) {
        LockTable.SHARED.forget(Objects.requireNonNull(key, "key must not be null"));
    }
}
