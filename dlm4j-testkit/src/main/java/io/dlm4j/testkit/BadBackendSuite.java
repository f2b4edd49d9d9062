package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.BadServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.ThrowingSupplier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A backend that is down, hung or not what it claims to be: every operation of a Dlm made from a
 * URI ends with a {@link LockBackendException} that names the backend and its address, within the
 * operation timeout plus slack, and nothing hangs. The servers are a closed port, a socket that
 * accepts and never answers and a socket that answers garbage ({@link BadServer}), and, where the
 * backend module can freeze one (SIGSTOP), a real server.
 *
 * <p>A backend module extends it with the URI of its scheme and the name its failures carry.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
public abstract class BadBackendSuite {

    /** Short, so that a hang shows as the difference between it and {@link #BOUND}. */
    protected static final Duration OPERATION_TIMEOUT = Duration.ofMillis(1500);
    /** The operation timeout plus generous slack for a loaded 2-core machine. */
    protected static final Duration BOUND = OPERATION_TIMEOUT.plusSeconds(5);
    /** How long a thawed server may take to serve the same Dlm again. */
    private static final Duration BACK_WITHIN = Duration.ofSeconds(20);

    private final List<AutoCloseable> resources = new ArrayList<>();

    // ------------------------------------------------------------------------------------------
    // What a backend provides
    // ------------------------------------------------------------------------------------------

    /** The URI of a Dlm on this backend's servers at {@code hostPorts} ({@code host:port} each). */
    protected abstract String uri(List<String> hostPorts);

    /** The backend's name as its failures give it ("MongoDB", "Redis", ...). */
    protected abstract String backendName();

    /** How many servers one Dlm talks to (Redlock: its masters); each is made bad the same way. */
    protected int serversPerDlm() {
        return 1;
    }

    /** Real servers that this module can freeze and thaw; backends that cannot, leave this. */
    protected FreezableServers startFreezableServers() {
        Assumptions.abort("this backend's test server cannot be frozen; the silent socket stands in for it");
        return null;
    }

    /** Real servers of the backend, frozen (SIGSTOP) and thawed by the test. */
    public interface FreezableServers extends AutoCloseable {
        List<String> hostPorts();

        void freeze();

        void thaw();

        @Override
        void close();
    }

    // ------------------------------------------------------------------------------------------
    // Fixture
    // ------------------------------------------------------------------------------------------

    @AfterEach
    void closeResources() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        resources.clear();
    }

    private <T extends AutoCloseable> T closedAfterTheTest(T resource) {
        resources.add(resource);
        return resource;
    }

    private static DlmOptions options() {
        return DlmOptions.builder().defaultOwner("bad-backend").operationTimeout(OPERATION_TIMEOUT)
                .waitingInterval(Duration.ofMillis(200)).build();
    }

    /** Makes the Dlm (some backends connect at once, so this too must fail or succeed in time). */
    private Optional<Dlm> dlmOn(List<String> hostPorts) {
        String uri = uri(hostPorts);
        Object made = inTime("Dlms.fromUri(" + uri + ")", () -> {
            try {
                return Dlms.fromUri(uri, options());
            } catch (LockBackendException e) {
                return e;
            }
        });
        if (made instanceof LockBackendException e) {
            assertNamesBackendAndAddresses("Dlms.fromUri", e, hostPorts);
            return Optional.empty();
        }
        return Optional.of(closedAfterTheTest((Dlm) made));
    }

    private static <T> T inTime(String what, ThrowingSupplier<T> call) {
        return assertTimeoutPreemptively(BOUND, call, () -> what + " did not return within " + BOUND);
    }

    private void assertNamesBackendAndAddresses(String what, Throwable thrown, List<String> hostPorts) {
        assertThat(thrown).as("%s", what).isInstanceOf(LockBackendException.class);
        assertThat(thrown.getMessage()).as("message of %s", what).contains(backendName());
        for (String hostPort : hostPorts) {
            assertThat(thrown.getMessage()).as("message of %s", what).contains(hostPort);
        }
    }

    /**
     * Each operation of the API that reaches the backend, by name, each on a key of its own: the
     * engine runs the acquires and releases of one key and owner one at a time, and these run at
     * the same time.
     */
    private static Map<String, Supplier<Object>> operations(Dlm dlm) {
        String key = "bad-backend-" + UUID.randomUUID();
        Map<String, Supplier<Object>> operations = new LinkedHashMap<>();
        operations.put("ping", dlm::ping);
        operations.put("tryLock", () -> dlm.newMutex(key + "-tryLock").tryLock());
        operations.put("lock(1 s)", () -> interruptible(() -> dlm.newMutex(key + "-lock1s").lock(Duration.ofSeconds(1))));
        operations.put("lock()", () -> interruptible(dlm.newMutex(key + "-lock")::lock));
        operations.put("holder", () -> dlm.newMutex(key + "-holder").holder());
        operations.put("unlock", () -> {
            dlm.newMutex(key + "-unlock").unlock();
            return "unlocked";
        });
        return operations;
    }

    private interface Blocking<T> {
        T call() throws InterruptedException;
    }

    private static Object interruptible(Blocking<?> call) {
        try {
            return call.call();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Every operation fails in time with a LockBackendException naming the backend and every
     * address. {@code ping} goes first, alone, as it always did; the others then run at the same
     * time, each timed on its own thread: one after the other they took six operation timeouts per
     * test, and a call's deadline is its own either way. Ping first matters on Redlock, where a
     * round that a silent quorum leaves short is "not acquired" until the masters have been silent
     * for an operation timeout: the operations after the ping must meet a backend known silent.
     */
    private void everyOperationFailsInTime(Dlm dlm, List<String> hostPorts) {
        Map<String, Supplier<Object>> operations = operations(dlm);
        failsInTime("ping", operations.remove("ping"), hostPorts);
        Map<String, CompletableFuture<Void>> checks = new LinkedHashMap<>();
        for (Map.Entry<String, Supplier<Object>> operation : operations.entrySet()) {
            String what = operation.getKey();
            CompletableFuture<Void> check = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    failsInTime(what, operation.getValue(), hostPorts);
                    check.complete(null);
                } catch (Throwable t) {
                    check.completeExceptionally(t);
                }
            }, "bad-backend-" + what);
            thread.setDaemon(true);
            thread.start();
            checks.put(what, check);
        }
        List<Throwable> failures = new ArrayList<>();
        for (Map.Entry<String, CompletableFuture<Void>> check : checks.entrySet()) {
            try {
                // each check bounds itself (inTime); this only guards against a check that never ends
                check.getValue().get(BOUND.multipliedBy(2).toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                failures.add(e.getCause());
            } catch (TimeoutException e) {
                failures.add(new AssertionError(check.getKey() + " did not end within " + BOUND.multipliedBy(2)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the operations", e);
            }
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError(failures.size() + " of " + checks.size()
                    + " operations did not fail as they must; the first: " + failures.get(0).getMessage(), failures.get(0));
            failures.stream().skip(1).forEach(error::addSuppressed);
            throw error;
        }
    }

    private void failsInTime(String what, Supplier<Object> operation, List<String> hostPorts) {
        long start = System.nanoTime();
        Throwable thrown = inTime(what, () -> {
            try {
                Object result = operation.get();
                return fail("%s returned %s instead of failing", what, result);
            } catch (LockBackendException e) {
                return e;
            }
        });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertNamesBackendAndAddresses(what, thrown, hostPorts);
        assertThat(took).as("time %s took to fail", what).isLessThan(BOUND);
    }

    private void badServersFailEveryOperationInTime(Supplier<BadServer> kind) {
        List<BadServer> servers = new ArrayList<>();
        for (int i = 0; i < serversPerDlm(); i++) {
            servers.add(closedAfterTheTest(kind.get()));
        }
        List<String> hostPorts = servers.stream().map(BadServer::hostAndPort).toList();
        dlmOn(hostPorts).ifPresent(dlm -> {
            everyOperationFailsInTime(dlm, hostPorts);
            assertThat(servers).as("the client reached the bad servers")
                    .allSatisfy(server -> assertThat(server.acceptedConnections()).isPositive());
            inTime("close", () -> {
                dlm.close();
                return null;
            });
        });
    }

    // ------------------------------------------------------------------------------------------
    // Tests
    // ------------------------------------------------------------------------------------------

    @Test
    @DisplayName("down (a closed port): every operation fails in time, naming the backend and the address")
    void aClosedPortFailsEveryOperationInTime() {
        List<String> hostPorts = new ArrayList<>();
        for (int port : BadServer.closedPorts(serversPerDlm())) {
            hostPorts.add("127.0.0.1:" + port);
        }
        dlmOn(hostPorts).ifPresent(dlm -> everyOperationFailsInTime(dlm, hostPorts));
    }

    @Test
    @DisplayName("hung (accepts, never answers): every operation fails in time, naming the backend and the address")
    void aServerThatNeverAnswersFailsEveryOperationInTime() {
        badServersFailEveryOperationInTime(BadServer::silent);
    }

    @Test
    @DisplayName("not the server (answers garbage): every operation fails in time, naming the backend and the address")
    void aServerThatAnswersGarbageFailsEveryOperationInTime() {
        badServersFailEveryOperationInTime(BadServer::garbage);
    }

    @Test
    @DisplayName("a real server frozen (SIGSTOP) after use: every operation fails in time; thawed, the same Dlm works again")
    void aFrozenServerFailsEveryOperationInTimeAndTheDlmRecovers() {
        FreezableServers servers = closedAfterTheTest(startFreezableServers());
        Dlm dlm = dlmOn(servers.hostPorts()).orElseThrow(() -> new AssertionError("no Dlm on a live server"));
        Mutex mutex = dlm.newMutex("frozen-" + UUID.randomUUID());
        mutex.tryLock().orElseThrow(() -> new AssertionError("tryLock on a live server")).close();

        servers.freeze();
        try {
            everyOperationFailsInTime(dlm, servers.hostPorts());
        } finally {
            servers.thaw();
        }
        await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            Optional<Lease> lease = mutex.tryLock();
            lease.ifPresent(Lease::close);
            return lease.isPresent();
        });
    }
}
