package io.dlm4j.engine;

import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.dlm4j.engine.EngineFixture.OWNER;
import static io.dlm4j.engine.EngineFixture.held;
import static io.dlm4j.engine.EngineFixture.mutex;
import static org.assertj.core.api.Assertions.assertThat;

/** Issue 11, defect 5: a Dlm forgets the leases that ended by expiry. */
class ForgettingTest {

    private final EngineFixture fixture = new EngineFixture();
    private final ScriptedStore store = fixture.store;
    private final StoreBackedDlm dlm = fixture.dlm();

    @AfterEach
    void tearDown() throws InterruptedException {
        fixture.close();
    }

    @Test
    @DisplayName("leases that expire without being closed leave the Dlm, and its close sends no release for them")
    void expiredLeasesAreForgotten() {
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            leases.add(held(dlm.newMutex(MutexOptions.builder("key-" + i).owner(OWNER).ttl(Duration.ofSeconds(1)).build())));
        }
        assertThat(dlm.holders().size()).isEqualTo(100);
        fixture.scheduler.advance(Duration.ofMillis(999));
        assertThat(dlm.holders().size()).as("before their expiry").isEqualTo(100);

        fixture.scheduler.advance(Duration.ofMillis(1));
        assertThat(dlm.holders().size()).as("at their expiry").isZero();
        assertThat(fixture.scheduler.pending()).as("timers left").isZero();
        dlm.close();
        assertThat(store.count("release")).as("releases sent by close").isZero();
    }

    @Test
    @DisplayName("a lease extended before its expiry stays; lost auto-refreshed leases are forgotten too")
    void extendedStaysLostGoes() {
        Mutex plain = mutex(dlm, OWNER, Duration.ofSeconds(2), false);
        Lease lease = held(plain);
        fixture.scheduler.advance(Duration.ofSeconds(1));
        assertThat(lease.refresh()).isTrue();
        fixture.scheduler.advance(Duration.ofMillis(1500));
        assertThat(dlm.holders().size()).as("extended past its first expiry").isEqualTo(1);

        Lease refreshed = held(dlm.newMutex(MutexOptions.builder("auto").owner(OWNER).ttl(Duration.ofSeconds(3))
                .autoRefresh(true).build()));
        store.drop("auto");
        fixture.scheduler.advance(Duration.ofSeconds(1));
        awaitRefreshes();
        assertThat(refreshed.isValid()).isFalse();
        fixture.scheduler.advance(Duration.ofSeconds(1));
        assertThat(dlm.holders().size()).as("the extended lease expired, the lost one gone").isZero();
    }

    @Test
    @DisplayName("an expired, forgotten lease never comes back: its refresh() is false and runs onLost, even if the owner holds the key again")
    void expiredLeaseStaysExpired() {
        Lease lease = held(mutex(dlm, OWNER, Duration.ofSeconds(1), false));
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        lease.onLost(lost::incrementAndGet);
        fixture.scheduler.advance(Duration.ofSeconds(2));
        Lease fresh = held(mutex(dlm, OWNER, Duration.ofSeconds(10), false)); // a new token the old lease cannot see
        assertThat(fresh.fencingToken()).isGreaterThan(lease.fencingToken());
        assertThat(lease.refresh()).as("refresh of the expired lease").isFalse();
        assertThat(lease.isValid()).isFalse();
        assertThat(lost.get()).isEqualTo(1);
        assertThat(store.peek(io.dlm4j.engine.EngineFixture.KEY)).as("the new hold, untouched")
                .hasValueSatisfying(h -> assertThat(h.fencingToken()).isEqualTo(fresh.fencingToken()));
        assertThat(dlm.holders().size()).isEqualTo(1);
    }

    private void awaitRefreshes() {
        try {
            fixture.drainRefreshWorker();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
