package io.dlm4j.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Sends one node's operations in the order of the calls, so that a release can never overtake the
 * acquire before it while the node is still connecting. While it connects (which may block on a
 * hung server), operations wait on the node's own dispatch thread, blocking only this node's
 * queue, and one whose caller gave up before its turn is not sent at all. Once connected and with
 * nothing queued, the operation goes out from the calling thread: Lettuce keeps the order of
 * commands on one connection, and a thread hop per master would cost more than the round trip.
 */
final class OrderedDispatcher implements AutoCloseable {

    private final BooleanSupplier connected;
    private final Supplier<String> address;
    /**
     * Guards {@link #thread}; a j.u.c lock rather than a monitor, so that a virtual thread that
     * meets it contended parks without pinning its carrier.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private ExecutorService thread;
    /** Operations handed to the dispatch thread and not yet sent. */
    private final AtomicInteger queued = new AtomicInteger();

    /**
     * @param connected whether the node's connection is made, so that an operation may go out at once
     * @param address   the node's address, which names its dispatch thread
     */
    OrderedDispatcher(BooleanSupplier connected, Supplier<String> address) {
        this.connected = connected;
        this.address = address;
    }

    /**
     * Sends {@code operation} after every one dispatched before it. A {@code cleanup} (a release,
     * an undo) is sent even if its caller gave up before its turn: an acquire ahead of it may have
     * been on its way already when its own caller gave up, and it must not be left behind.
     */
    <T> CompletableFuture<T> dispatch(Supplier<CompletableFuture<T>> operation, boolean cleanup) {
        if (connected.getAsBoolean() && queued.get() == 0) {
            try {
                return operation.get();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        queued.incrementAndGet();
        try {
            thread().execute(() -> {
                try {
                    if (cleanup || !result.isDone()) {
                        operation.get().whenComplete((value, failure) -> {
                            if (failure != null) {
                                result.completeExceptionally(failure);
                            } else {
                                result.complete(value);
                            }
                        });
                    }
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                } finally {
                    queued.decrementAndGet(); // only once sent: a later call must not overtake it
                }
            });
        } catch (RuntimeException e) {
            queued.decrementAndGet();
            result.completeExceptionally(e);
        }
        return result;
    }

    private ExecutorService thread() {
        lock.lock();
        try {
            if (thread == null) {
                thread = Executors.newSingleThreadExecutor(runnable -> {
                    Thread dispatch = new Thread(runnable, "dlm4j-redis-node-" + address.get());
                    dispatch.setDaemon(true);
                    return dispatch;
                });
            }
            return thread;
        } finally {
            lock.unlock();
        }
    }

    /** Operations still queued are not sent; their callers' waits end at their timeouts. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (thread != null) {
                thread.shutdownNow(); // does not wait for the dispatch thread
            }
        } finally {
            lock.unlock();
        }
    }
}
