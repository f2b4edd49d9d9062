package io.dlm4j.bench;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;

import java.time.Duration;

/** dlm4j on any backend: a mutex per thread with its own owner; lock() and Lease.close(). */
final class DlmClient implements LockClient {

    private final Dlm dlm;
    private final Duration ttl;
    private final AutoCloseable resources;

    DlmClient(Dlm dlm, Duration ttl, AutoCloseable resources) {
        this.dlm = dlm;
        this.ttl = ttl;
        this.resources = resources;
    }

    Dlm dlm() {
        return dlm;
    }

    @Override
    public LockHandle handle(String key, String owner) {
        Mutex mutex = dlm.newMutex(MutexOptions.builder(key).owner(owner).ttl(ttl).build());
        return new LockHandle() {
            private Lease lease;

            @Override
            public void lock() throws InterruptedException {
                lease = mutex.lock();
            }

            @Override
            public void unlock() {
                lease.close();
            }
        };
    }

    @Override
    public void close() throws Exception {
        try {
            dlm.close();
        } finally {
            resources.close();
        }
    }
}
