package io.dlm4j.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Txn;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * A real jetcd client with a scripted layer over the KV and lease calls the store makes, so that a
 * test can force an interleaving: hold one transaction back until the test lets it go (it then
 * reaches etcd late, as a request overtaken by the next one would), or run a step of its own just
 * before a keep-alive or a revoke is sent. Everything else goes straight to etcd.
 */
final class ScriptedClient {

    private final Client real;
    private final Client scripted;
    private final AtomicReference<LongConsumer> beforeNextKeepAlive = new AtomicReference<>();
    private final AtomicReference<LongConsumer> beforeNextRevoke = new AtomicReference<>();
    private final AtomicReference<HeldTxn> heldTxn = new AtomicReference<>();

    ScriptedClient(Client real) {
        this.real = real;
        this.scripted = proxy(Client.class, (proxy, method, args) -> switch (method.getName()) {
            case "getKVClient" -> kv(real.getKVClient());
            case "getLeaseClient" -> lease(real.getLeaseClient());
            case "close" -> null; // the real client belongs to the test class
            default -> invoke(real, method, args);
        });
    }

    Client client() {
        return scripted;
    }

    /** Runs {@code step} (given the lease id) just before the next keep-alive is sent. */
    void beforeNextKeepAlive(LongConsumer step) {
        beforeNextKeepAlive.set(step);
    }

    /** Runs {@code step} (given the lease id) just before the next revoke is sent. */
    void beforeNextRevoke(LongConsumer step) {
        beforeNextRevoke.set(step);
    }

    /**
     * Holds back the transaction after the next {@code skip} ones: its commit waits until
     * {@link HeldTxn#letGo()}, and only then is it sent.
     */
    HeldTxn holdTxnAfter(int skip) {
        HeldTxn held = new HeldTxn(skip);
        heldTxn.set(held);
        return held;
    }

    /** One transaction held back, and what etcd answered it once it was let go. */
    static final class HeldTxn {
        private final AtomicInteger toSkip;
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CompletableFuture<Void> gate = new CompletableFuture<>();
        private final CompletableFuture<Object> answer = new CompletableFuture<>();

        private HeldTxn(int skip) {
            this.toSkip = new AtomicInteger(skip);
        }

        /** Waits until the store has committed the transaction (it is now held). */
        void awaitReached() throws InterruptedException {
            reached.await();
        }

        void letGo() {
            gate.complete(null);
        }

        /** etcd's answer to the late transaction: its response, or its failure. */
        CompletableFuture<Object> answer() {
            return answer;
        }
    }

    private KV kv(KV kv) {
        return proxy(KV.class, (proxy, method, args) -> method.getName().equals("txn")
                ? txn(kv.txn())
                : invoke(kv, method, args));
    }

    private Txn txn(Txn txn) {
        return proxy(Txn.class, (proxy, method, args) -> {
            if (!method.getName().equals("commit")) {
                invoke(txn, method, args);
                return proxy;
            }
            HeldTxn held = heldTxn.get();
            if (held == null || held.toSkip.getAndDecrement() != 0 || !heldTxn.compareAndSet(held, null)) {
                return txn.commit();
            }
            held.reached.countDown();
            CompletableFuture<?> late = held.gate.thenCompose(go -> txn.commit());
            late.whenComplete((response, failure) -> {
                if (failure != null) {
                    held.answer.completeExceptionally(failure);
                } else {
                    held.answer.complete(response);
                }
            });
            return late;
        });
    }

    private Lease lease(Lease lease) {
        return proxy(Lease.class, (proxy, method, args) -> {
            LongConsumer step = switch (method.getName()) {
                case "keepAliveOnce" -> beforeNextKeepAlive.getAndSet(null);
                case "revoke" -> beforeNextRevoke.getAndSet(null);
                default -> null;
            };
            if (step != null) {
                step.accept((Long) args[0]);
            }
            return invoke(lease, method, args);
        });
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
