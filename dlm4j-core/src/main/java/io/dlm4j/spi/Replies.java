package io.dlm4j.spi;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** For stores on asynchronous clients: waiting for one reply within a deadline. */
public final class Replies {

    private Replies() {
    }

    /**
     * The reply, waited for at most {@code limit}. The client library's own failure is rethrown as
     * it is (the engine names the backend); no answer in time, or an interrupt (whose flag is kept),
     * is an {@link IllegalStateException}. A reply given up on is cancelled.
     *
     * @param backend the backend's name, for the interrupt's message ("Redis", "etcd")
     */
    public static <T> T await(CompletableFuture<T> reply, Duration limit, String backend) {
        try {
            return reply.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            reply.cancel(false);
            throw new IllegalStateException("no answer within " + limit, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + backend, e);
        }
    }
}
