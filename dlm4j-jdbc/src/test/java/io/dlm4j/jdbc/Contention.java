package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Dlms of different owners trying one key (and fresh keys, first inserts) at once, for the server-log tests. */
final class Contention {

    private Contention() {
    }

    /** Each Dlm on a thread of its own makes {@code tries} tryLock/unlock rounds; returns how many acquired. */
    static int run(List<Dlm> dlms, String key, int tries) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(dlms.size());
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (Dlm dlm : dlms) {
                done.add(threads.submit(() -> {
                    int acquired = 0;
                    for (int i = 0; i < tries; i++) {
                        Optional<Lease> lease = dlm.newMutex(i % 2 == 0 ? key : key + "-" + i).tryLock();
                        if (lease.isPresent()) {
                            acquired++;
                            lease.get().close();
                        }
                    }
                    return acquired;
                }));
            }
            int total = 0;
            for (Future<Integer> future : done) {
                total += future.get(60, TimeUnit.SECONDS);
            }
            return total;
        } finally {
            threads.shutdownNow();
        }
    }
}
