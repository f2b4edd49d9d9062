package io.dlm4j.spi;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class WakeUpsTest {

    @Test
    void aWaiterIsWokenUntilItsSubscriptionCloses() {
        WakeUps wakeUps = new WakeUps();
        AtomicInteger woken = new AtomicInteger();
        Subscription subscription = wakeUps.add("k", woken::incrementAndGet);
        wakeUps.wake("other");
        wakeUps.wake("k");
        assertThat(woken).hasValue(1);
        subscription.close();
        wakeUps.wake("k");
        assertThat(woken).hasValue(1);
        assertThat(wakeUps.isWaitedOn("k")).as("a key with no waiter left is dropped").isFalse();
    }

    /**
     * The race this class exists for: one waiter comes and goes while another registers. A
     * registration that landed in the set the leaving waiter had just emptied and dropped would
     * never be woken. Before the fix (computeIfAbsent, then add) this lost a waiter within a few
     * thousand rounds.
     */
    @Test
    void aNewWaiterIsNeverLostToTheRemovalOfTheKeysLastOne() throws InterruptedException {
        WakeUps wakeUps = new WakeUps();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch churning = new CountDownLatch(1);
        Thread churn = new Thread(() -> {
            churning.countDown();
            while (!stop.get()) {
                wakeUps.add("k", () -> { }).close();
            }
        });
        churn.start();
        churning.await();
        AtomicReference<String> lost = new AtomicReference<>();
        try {
            for (int round = 0; round < 200_000 && lost.get() == null; round++) {
                AtomicBoolean woken = new AtomicBoolean();
                Subscription subscription = wakeUps.add("k", () -> woken.set(true));
                wakeUps.wake("k");
                if (!woken.get()) {
                    lost.set("round " + round + ": a registered waiter was not woken");
                }
                subscription.close();
            }
        } finally {
            stop.set(true);
            churn.join();
        }
        assertThat(lost.get()).isNull();
    }
}
