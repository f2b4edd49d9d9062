package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance test of mutual exclusion under load (docs/CONTRACT.md): never two holders at
 * once, and tokens that increase in acquisition order. Run by {@link ConformanceSuite} as its
 * nested {@code MutualExclusion} tests.
 */
public interface MutualExclusionContract extends ConformanceFixture {

    @Test
    @DisplayName("8 threads, 8 owners on 3 Dlms: never two in the critical section; tokens increase in acquisition order")
    default void neverTwoHolders() throws InterruptedException {
        int threads = 8;
        int iterations = 40;
        Duration run = Duration.ofSeconds(2);
        List<Dlm> shared = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            shared.add(dlm(options("shared-" + i).waitingInterval(Duration.ofMillis(20)).build()));
        }
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger invalid = new AtomicInteger();
        List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        long deadline = now() + run.toNanos();

        List<Attempt<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Mutex mutex = mutex(shared.get(t % shared.size()), key(), "owner-" + t, Duration.ofSeconds(5));
            workers.add(inBackground("worker-" + t, () -> {
                go.await();
                int done = 0;
                while (done < iterations && System.nanoTime() < deadline) {
                    Lease lease = mutex.lock();
                    try {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        tokens.add(lease.fencingToken());
                        if (!lease.isValid()) {
                            invalid.incrementAndGet();
                        }
                        LockSupport.parkNanos(200_000); // a little work inside
                        inside.decrementAndGet();
                    } finally {
                        if (done % 2 == 0) {
                            lease.close();
                        } else {
                            mutex.unlock();
                        }
                    }
                    done++;
                }
                return done;
            }));
        }
        go.countDown();
        int total = 0;
        for (Attempt<Integer> worker : workers) {
            total += worker.get(Duration.ofSeconds(20));
        }

        assertThat(overlaps.get()).as("times two holders were inside at once").isZero();
        assertThat(invalid.get()).as("leases invalid inside the critical section").isZero();
        assertThat(tokens).hasSize(total);
        assertThat(total).as("acquisitions in all").isGreaterThanOrEqualTo(threads * 2);
        List<Long> inOrder = new ArrayList<>(tokens);
        for (int i = 1; i < inOrder.size(); i++) {
            assertThat(inOrder.get(i)).as("token of acquisition %d", i).isGreaterThan(inOrder.get(i - 1));
        }
        assertThat(shared.get(0).newMutex(key()).holder()).as("holder after the run").isEmpty();
    }
}
