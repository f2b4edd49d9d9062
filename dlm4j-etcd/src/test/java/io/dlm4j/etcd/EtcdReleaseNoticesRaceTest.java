package io.dlm4j.etcd;

import com.google.protobuf.ByteString;
import io.dlm4j.spi.Subscription;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.WatchResponse;
import io.etcd.jetcd.api.KeyValue;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12 item 7: a waiter that subscribes while the key's last waiter leaves must still be woken
 * by the next deletion. The watch is a stand-in that hands the test its listener, so that the test
 * delivers deletions itself, at once and on its own thread; the race is between two real threads.
 */
class EtcdReleaseNoticesRaceTest {

    private static final String PREFIX = "race/";

    @Test
    void aWaiterThatSubscribesWhileTheLastOneLeavesIsStillWoken() throws InterruptedException {
        AtomicReference<Watch.Listener> listener = new AtomicReference<>();
        EtcdReleaseNotices releases = new EtcdReleaseNotices(watchHandingOut(listener), PREFIX, Duration.ofSeconds(5));
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch churning = new CountDownLatch(1);
        Thread churn = new Thread(() -> {
            churning.countDown();
            while (!stop.get()) {
                releases.subscribe("k", () -> { }).close();
            }
        }, "churn");
        churn.start();
        churning.await();
        int deaf = 0;
        int rounds = 0;
        long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        try {
            for (; rounds < 300_000 && System.nanoTime() - end < 0; rounds++) {
                AtomicInteger woken = new AtomicInteger();
                Subscription subscription = releases.subscribe("k", woken::incrementAndGet);
                listener.get().onNext(new io.etcd.jetcd.watch.WatchResponse(deletionOf(PREFIX + "k")));
                if (woken.get() == 0) {
                    deaf++;
                }
                subscription.close();
            }
        } finally {
            stop.set(true);
            churn.join();
        }
        assertThat(deaf).as("subscriptions (of %s) that a deletion of their key did not wake", rounds).isZero();
    }

    private static WatchResponse deletionOf(String key) {
        return WatchResponse.newBuilder()
                .addEvents(Event.newBuilder().setType(Event.EventType.DELETE)
                        .setKv(KeyValue.newBuilder().setKey(ByteString.copyFrom(key, StandardCharsets.UTF_8))))
                .build();
    }

    /** A watch that confirms at once and gives its listener to {@code listener}. */
    private static Watch watchHandingOut(AtomicReference<Watch.Listener> listener) {
        Watch.Watcher watcher = (Watch.Watcher) Proxy.newProxyInstance(Watch.class.getClassLoader(),
                new Class<?>[] {Watch.Watcher.class}, (proxy, method, args) -> method.getName().equals("isClosed") ? false : null);
        return (Watch) Proxy.newProxyInstance(Watch.class.getClassLoader(), new Class<?>[] {Watch.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("watch") && args.length == 3 && args[2] instanceof Watch.Listener given) {
                        listener.set(given);
                        given.onNext(new io.etcd.jetcd.watch.WatchResponse(WatchResponse.newBuilder().setCreated(true).build()));
                        return watcher;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
