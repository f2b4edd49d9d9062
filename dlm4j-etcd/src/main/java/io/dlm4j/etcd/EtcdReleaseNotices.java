package io.dlm4j.etcd;

import io.dlm4j.spi.Subscription;
import io.dlm4j.spi.WakeUps;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The release notices of etcd, which the engine's {@code ReleaseNotices} subscribes to: one watch
 * per Dlm on the prefix of all its lock keys, for deletions only (a release, or the expiry of a
 * hold's lease), shared by every waiter: waiters register for their key, and the watch wakes them.
 * If the watch breaks, the next waiter starts a new one; until then waiters poll.
 *
 * <p>The engine subscribes once per key per Dlm and passes a wake-up on to one of its waiters, so a
 * deletion wakes one waiter in each Dlm that waits for the key, not every waiter.
 */
final class EtcdReleaseNotices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdReleaseNotices.class);

    private final Watch watch;
    private final String prefix;
    private final Duration timeout;
    private final WakeUps waiters = new WakeUps();
    /**
     * Guards {@link #watcher}. A j.u.c lock, not a monitor: ensureWatching() waits under it for etcd
     * to confirm the watch (and broken() and close() close the watcher under it), and a virtual
     * thread waiting there on the server must not pin its carrier.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private Watch.Watcher watcher;

    EtcdReleaseNotices(Watch watch, String prefix, Duration timeout) {
        this.watch = watch;
        this.prefix = prefix;
        this.timeout = timeout;
    }

    Subscription subscribe(String key, Runnable wake) {
        Subscription subscription = waiters.add(key, wake);
        ensureWatching();
        return subscription;
    }

    private void ensureWatching() {
        lock.lock();
        try {
            if (watcher != null) {
                return;
            }
            CountDownLatch created = new CountDownLatch(1);
            ByteSequence start = ByteSequence.from(prefix, StandardCharsets.UTF_8);
            WatchOption deletions = WatchOption.builder().isPrefix(true).withNoPut(true).withCreateNotify(true).build();
            watcher = watch.watch(start, deletions, Watch.listener(response -> {
                created.countDown();
                wakeFor(response);
            }, this::broken));
            try {
                // so that a release right after subscribe() is seen; past the timeout, waiters poll
                if (!created.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("the etcd watch on '{}' was not confirmed within {}; waiters poll meanwhile", prefix, timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } finally {
            lock.unlock();
        }
    }

    private void wakeFor(WatchResponse response) {
        for (WatchEvent event : response.getEvents()) {
            if (event.getEventType() == WatchEvent.EventType.DELETE) {
                String key = event.getKeyValue().getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
                waiters.wake(key);
            }
        }
    }

    private void broken(Throwable failure) {
        lock.lock();
        try {
            LOG.warn("the etcd watch on '{}' broke; waiters poll until the next one starts", prefix, failure);
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
            waiters.clear();
        } finally {
            lock.unlock();
        }
    }
}
