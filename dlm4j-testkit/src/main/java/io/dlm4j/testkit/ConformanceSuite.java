package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.awaitility.core.ConditionFactory;

import java.lang.ref.WeakReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The conformance suite of the contract (docs/CONTRACT.md) that every backend passes. A backend module extends it with a
 * factory for fresh {@link Dlm}s on the backend under test:
 *
 * <pre>{@code
 * class RedisConformanceTest extends ConformanceSuite {
 *     protected Dlm createDlm(DlmOptions options) { return RedisDlm.create(client, options); }
 *     protected void deleteStoredRecord(String key) { ...delete the lock's record by hand... }
 * }
 * }</pre>
 *
 * <p>The suite closes every Dlm it creates after each test. Each test works on keys of its own
 * (test name plus a random suffix), so backends may share one server or table across tests.
 * Timing assertions use generous bounds: a lower bound is exact up to {@link #EARLY_SLACK}
 * (a hold must never end before its ttl), an upper bound allows {@link #LATE_SLACK} plus
 * {@link #expiryGranularity()} for a slow machine.
 *
 * <p>The safety rules of the contract are the nested {@code SafetyRules} tests (tag
 * {@value #SAFETY_RULES_TAG}). A backend that breaks a rule today lists it in
 * {@link #knownSafetyGaps()}, and one whose server can be frozen implements
 * {@link #freezeBackend()} and {@link #thawBackend()}. With the system property
 * {@value #VIRTUAL_THREADS_PROPERTY}{@code =true} (on Java 21 or later) every thread the suite
 * starts is a virtual thread.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class ConformanceSuite {

    protected static final String OWNER_A = "owner-a";
    protected static final String OWNER_B = "owner-b";
    protected static final String OWNER_C = "owner-c";
    protected static final String OWNER_D = "owner-d";

    /** A ttl that does not pass during a test. */
    protected static final Duration LONG_TTL = Duration.ofSeconds(30);
    /** How much earlier than exact a lower timing bound may be met (ms rounding of stores). */
    protected static final Duration EARLY_SLACK = Duration.ofMillis(100);
    /** How much later than ideal an upper timing bound may be met (a stalled 2-core machine). */
    protected static final Duration LATE_SLACK = Duration.ofSeconds(1);

    private static final Duration ONE_HOUR = Duration.ofHours(1);

    /** The clock of the "normal" clients and of the test's own time readings. */
    protected final Clock clock = Clock.systemUTC();

    private final List<Dlm> dlms = new CopyOnWriteArrayList<>();
    private final List<Attempt<?>> attempts = new CopyOnWriteArrayList<>();
    private String key;

    // ------------------------------------------------------------------------------------------
    // What a backend provides
    // ------------------------------------------------------------------------------------------

    /** A fresh Dlm on the backend under test. The suite closes it after the test. */
    protected abstract Dlm createDlm(DlmOptions options);

    /**
     * Deletes the stored record of the lock on {@code key} by hand, as the backend's cleanup of
     * expired records (a TTL index, key expiry, a purge job) would. Backends that can, override
     * this; the tests that need it are skipped elsewhere.
     */
    protected void deleteStoredRecord(String key) {
        Assumptions.abort("this backend has no hook to delete a lock's stored record");
    }

    /**
     * How much less than the ttl a lease's {@code expiresAt} may promise on this backend, besides
     * the time the request took: zero where a hold lasts its whole ttl; Redlock's validity time
     * takes off the clock-drift allowance (1% of the ttl + 2 ms).
     */
    protected Duration validityAllowance(Duration ttl) {
        return Duration.ZERO;
    }

    /**
     * The unit in which this backend reports a hold's time left, which {@code holder()} may round
     * down by: zero for milliseconds; etcd's lease time-to-live counts whole seconds.
     */
    protected Duration timeLeftResolution() {
        return Duration.ZERO;
    }

    /**
     * How much later than its ttl a hold may end on this backend, beyond {@link #LATE_SLACK}:
     * zero where the backend expires holds to the millisecond; a backend that rounds ttls up
     * (etcd leases: whole seconds) or expires them in periodic sweeps overrides it.
     */
    protected Duration expiryGranularity() {
        return Duration.ZERO;
    }

    /**
     * Whether this backend tells waiters that a lock was released (pub/sub, watch, change stream,
     * notify), so that they try again at once rather than after {@code waitingInterval}. Backends
     * that push override this with true; the test of the push is skipped elsewhere.
     */
    protected boolean notifiesWaitersOnRelease() {
        return false;
    }

    /** The safety rules of the contract, each a group of tests below. */
    public enum SafetyRule {
        /** Neither a relock nor a refresh by the same owner shortens the hold (the store keeps the later expiry). */
        RELOCK_NEVER_SHORTENS,
        /** Every lease of a hold in a Dlm reports the expiry the store really has, after a relock or refresh through any of them. */
        LEASES_REPORT_STORE_EXPIRY,
        /** A relock keeps the hold's fencing token. */
        RELOCK_KEEPS_TOKEN,
        /** A failed or interrupted relock never releases the hold that existed before it. */
        FAILED_RELOCK_KEEPS_HOLD,
        /** Lease.close() and Mutex.unlock() end every lease of that key and owner in the Dlm, without onLost. */
        CLOSE_ENDS_EVERY_LEASE,
        /** An interrupted lock() leaves no hold behind; tryLock() keeps the interrupt flag. */
        INTERRUPT_LEAVES_NO_HOLD,
        /** An auto-refreshed lease whose refreshes fail is lost no later than its local expiry. */
        LOST_BY_LOCAL_EXPIRY,
        /** Leases that expire unclosed are forgotten by their Dlm. */
        EXPIRED_LEASES_FORGOTTEN,
        /** A Dlm closed during a call ends it with IllegalStateException; calls after close() throw it at once. */
        CLOSED_DLM_ENDS_CALLS
    }

    /**
     * Rules this backend is known to break today, each with the reason and the issue that fixes it;
     * their tests are aborted with that reason (shown as skipped), never weakened.
     */
    protected Map<SafetyRule, String> knownSafetyGaps() {
        return Map.of();
    }

    /**
     * Makes the backend stop answering (SIGSTOP of the server, or of a quorum of them) until
     * {@link #thawBackend()}: connections stay open and requests wait unanswered. Backends that
     * can, override both; the tests that need it are skipped elsewhere. The suite always thaws in
     * a {@code finally}.
     */
    protected void freezeBackend() {
        Assumptions.abort("this backend cannot be frozen in a test");
    }

    /** Lets a {@linkplain #freezeBackend() frozen} backend answer again; does nothing if it is not frozen. */
    protected void thawBackend() {
        Assumptions.abort("this backend cannot be frozen in a test");
    }

    // ------------------------------------------------------------------------------------------
    // Fixture
    // ------------------------------------------------------------------------------------------

    /** The system property that makes the suite's threads virtual; see {@link #VIRTUAL_THREADS}. */
    public static final String VIRTUAL_THREADS_PROPERTY = "dlm4j.test.virtualThreads";

    /**
     * Whether every thread the suite starts (background attempts, workers) is a virtual thread:
     * system property {@value #VIRTUAL_THREADS_PROPERTY} {@code = true}. Needs a JVM with virtual
     * threads (Java 21 or later); the suite itself compiles for Java 17 and finds them by reflection.
     */
    protected static final boolean VIRTUAL_THREADS = Boolean.getBoolean(VIRTUAL_THREADS_PROPERTY);

    @BeforeEach
    void checkThreadMode() {
        if (VIRTUAL_THREADS) {
            VirtualThreads.check();
        }
    }

    /**
     * A new, unstarted daemon thread for the suite's callers: a virtual thread when
     * {@link #VIRTUAL_THREADS}, otherwise a platform thread.
     */
    protected static Thread newThread(String name, Runnable task) {
        if (VIRTUAL_THREADS) {
            return VirtualThreads.unstarted(name, task); // virtual threads are always daemons
        }
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    /** {@code Thread.ofVirtual().name(name).unstarted(task)}, looked up by reflection (Java 21+). */
    private static final class VirtualThreads {
        private static final Method OF_VIRTUAL;
        private static final Method NAME;
        private static final Method UNSTARTED;
        private static final String MISSING;

        static {
            Method ofVirtual = null;
            Method name = null;
            Method unstarted = null;
            String missing = null;
            try {
                ofVirtual = Thread.class.getMethod("ofVirtual");
                Class<?> builder = Class.forName("java.lang.Thread$Builder");
                name = builder.getMethod("name", String.class);
                unstarted = builder.getMethod("unstarted", Runnable.class);
                Object probe = ofVirtual.invoke(null); // fails where virtual threads are a disabled preview
                unstarted.invoke(probe, (Runnable) () -> { });
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                missing = e instanceof InvocationTargetException ? String.valueOf(e.getCause()) : String.valueOf(e);
            }
            OF_VIRTUAL = ofVirtual;
            NAME = name;
            UNSTARTED = unstarted;
            MISSING = missing;
        }

        static void check() {
            if (MISSING != null) {
                throw new IllegalStateException(VIRTUAL_THREADS_PROPERTY + "=true, but this JVM (Java "
                        + System.getProperty("java.version") + " at " + System.getProperty("java.home")
                        + ") has no virtual threads (Thread.ofVirtual, Java 21 or later): run the tests on a newer JDK"
                        + " or without that property [" + MISSING + "]");
            }
        }

        static Thread unstarted(String name, Runnable task) {
            check();
            try {
                Object builder = NAME.invoke(OF_VIRTUAL.invoke(null), name);
                return (Thread) UNSTARTED.invoke(builder, task);
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("cannot make a virtual thread", e.getCause());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot make a virtual thread", e);
            }
        }
    }

    @BeforeEach
    void nameTheKey(TestInfo info) {
        String test = info.getTestMethod().map(Method::getName).orElse("test");
        key = "dlm4j-" + test + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    }

    @AfterEach
    void closeEverything() throws Exception {
        Thread.interrupted(); // never leave a test's interrupt on the runner's thread
        for (Attempt<?> attempt : attempts) {
            attempt.thread.interrupt();
        }
        for (Attempt<?> attempt : attempts) {
            attempt.thread.join(TimeUnit.SECONDS.toMillis(5));
        }
        attempts.clear();
        List<Dlm> toClose = new ArrayList<>(dlms);
        Collections.reverse(toClose);
        dlms.clear();
        RuntimeException failure = null;
        for (Dlm dlm : toClose) {
            try {
                dlm.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The key of this test: its name and a random suffix. */
    protected final String key() {
        return key;
    }

    /** Another key of this test. */
    protected final String key(String suffix) {
        return key + "-" + suffix;
    }

    /** Options of a normal client: the given default owner and a ttl that does not pass. */
    protected final DlmOptions.Builder options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).defaultTtl(LONG_TTL);
    }

    /** A fresh Dlm whose default owner is {@code owner}; closed after the test. */
    protected final Dlm dlm(String owner) {
        return dlm(options(owner).build());
    }

    /** A fresh Dlm; closed after the test. */
    protected final Dlm dlm(DlmOptions options) {
        Dlm dlm = createDlm(options);
        assertThat(dlm).as("createDlm(options)").isNotNull();
        dlms.add(dlm);
        return dlm;
    }

    /** A mutex on this test's key with the given owner and ttl, through {@code dlm}. */
    protected static Mutex mutex(Dlm dlm, String key, String owner, Duration ttl) {
        return dlm.newMutex(MutexOptions.builder(key).owner(owner).ttl(ttl).build());
    }

    protected static Lease acquired(Optional<Lease> lease, String what) {
        assertThat(lease).as(what + " should acquire the lock").isPresent();
        return lease.get();
    }

    /** Awaitility, polling fast and starting at once; {@code what} names the condition in failures. */
    protected static ConditionFactory eventually(String what, Duration atMost) {
        return await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).atMost(atMost);
    }

    /** Checks a condition repeatedly for {@code period}; it must hold every time. */
    protected static ConditionFactory throughout(String what, Duration period) {
        return await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                .during(period).atMost(period.plus(Duration.ofSeconds(3)));
    }

    protected static long now() {
        return System.nanoTime();
    }

    protected static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /**
     * A deliberate delay: the scenario needs time to pass (a hold to age before a relock), so
     * there is nothing to synchronise on.
     */
    protected static void pauseUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private void assertExpiresAt(Instant expiresAt, Instant before, Instant after, Duration ttl) {
        // A backend that can promise less than the ttl (Redlock's validity) may take off its
        // allowance and the time the request took.
        Duration allowance = validityAllowance(ttl);
        Instant earliest = allowance.isZero() ? before.plus(ttl) : before.plus(ttl).minus(allowance)
                .minus(Duration.between(before, after));
        assertThat(expiresAt)
                .as("expiresAt: taken before the request, plus the ttl %s (less %s)", ttl, allowance)
                .isBetween(earliest, after.plus(ttl).plus(expiryGranularity()));
    }

    /** Runs {@code task} on a thread of its own; the suite interrupts and joins it after the test. */
    protected final <T> Attempt<T> inBackground(String name, Callable<T> task) {
        Attempt<T> attempt = new Attempt<>(name, task);
        attempts.add(attempt);
        attempt.thread.start();
        return attempt;
    }

    /** Waits until the attempt's thread is blocked (inside lock(), waiting) and not finished. */
    protected static void awaitBlocked(Attempt<?> attempt) {
        eventually(attempt.name + " blocks", Duration.ofSeconds(5)).until(() -> attempt.isDone() || attempt.isBlocked());
        assertThat(attempt.isDone()).as(attempt.name + " should still be waiting").isFalse();
    }

    /** A task on a thread of its own, with its outcome and the moment it finished. */
    protected static final class Attempt<T> {
        private final String name;
        private final Thread thread;
        private final CompletableFuture<T> outcome = new CompletableFuture<>();
        private volatile long finishedNanos;

        private Attempt(String name, Callable<T> task) {
            this.name = name;
            this.thread = newThread("conformance-" + name, () -> {
                try {
                    T value = task.call();
                    finishedNanos = System.nanoTime();
                    outcome.complete(value);
                } catch (Throwable e) {
                    finishedNanos = System.nanoTime();
                    outcome.completeExceptionally(e);
                }
            });
        }

        public Thread thread() {
            return thread;
        }

        public boolean isDone() {
            return outcome.isDone();
        }

        boolean isBlocked() {
            Thread.State state = thread.getState();
            return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
        }

        /** When the task finished, on {@link System#nanoTime()}. */
        public long finishedNanos() {
            return finishedNanos;
        }

        /** The task's result; fails the test if it threw or did not finish in time. */
        public T get(Duration within) throws InterruptedException {
            try {
                return outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw new AssertionError(name + " failed", e.getCause());
            } catch (TimeoutException e) {
                throw new AssertionError(name + " did not finish within " + within);
            }
        }

        /** What the task threw, or null if it returned; fails the test if it did not finish in time. */
        public Throwable failureOrNull(Duration within) throws InterruptedException {
            try {
                outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
                return null;
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                throw new AssertionError(name + " did not finish within " + within);
            }
        }

        /** What the task threw; fails the test if it returned or did not finish in time. */
        public Throwable failure(Duration within) throws InterruptedException {
            try {
                T value = outcome.get(within.toNanos(), TimeUnit.NANOSECONDS);
                throw new AssertionError(name + " should have failed, but returned " + value);
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                throw new AssertionError(name + " did not finish within " + within);
            }
        }
    }

    // ==========================================================================================
    // Defaults
    // ==========================================================================================

    @Nested
    @DisplayName("Defaults of the Dlm")
    class Defaults {

        @Test
        @DisplayName("newMutex(key) takes the default owner and the default ttl")
        void newMutexWithKeyTakesDefaults() {
            Duration ttl = Duration.ofSeconds(7);
            Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(ttl).build());
            Mutex mutex = dlm.newMutex(key());
            assertThat(mutex.key()).isEqualTo(key());
            assertThat(mutex.owner()).isEqualTo(OWNER_A);
            assertThat(mutex.ttl()).isEqualTo(ttl);

            Instant before = clock.instant();
            try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
                Instant after = clock.instant();
                assertThat(lease.owner()).isEqualTo(OWNER_A);
                assertExpiresAt(lease.expiresAt(), before, after, ttl);
                assertThat(mutex.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
            }
        }

        @Test
        @DisplayName("newMutex(key, ttl) takes the default owner and the given ttl")
        void newMutexWithTtlOverridesTtl() {
            Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(Duration.ofSeconds(7)).build());
            Duration ttl = Duration.ofSeconds(11);
            Mutex mutex = dlm.newMutex(key(), ttl);
            assertThat(mutex.key()).isEqualTo(key());
            assertThat(mutex.owner()).isEqualTo(OWNER_A);
            assertThat(mutex.ttl()).isEqualTo(ttl);

            Instant before = clock.instant();
            try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
                Instant after = clock.instant();
                assertThat(lease.owner()).isEqualTo(OWNER_A);
                assertExpiresAt(lease.expiresAt(), before, after, ttl);
            }
        }

        @Test
        @DisplayName("MutexOptions without owner and ttl fall back to the defaults")
        void mutexOptionsWithoutOwnerAndTtlFallBack() {
            Duration ttl = Duration.ofSeconds(7);
            Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(ttl).build());
            Mutex mutex = dlm.newMutex(MutexOptions.builder(key()).owner(null).ttl(null).autoRefresh(null).build());
            assertThat(mutex.key()).isEqualTo(key());
            assertThat(mutex.owner()).isEqualTo(OWNER_A);
            assertThat(mutex.ttl()).isEqualTo(ttl);

            Instant before = clock.instant();
            try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
                Instant after = clock.instant();
                assertThat(lease.owner()).isEqualTo(OWNER_A);
                assertExpiresAt(lease.expiresAt(), before, after, ttl);
            }
        }

        @Test
        @DisplayName("MutexOptions owner and ttl apply to that mutex only; two owners in one Dlm are two holders")
        void perMutexOwnerAndTtl() {
            Dlm dlm = dlm(DlmOptions.builder().defaultOwner(OWNER_A).defaultTtl(Duration.ofSeconds(7)).build());
            Duration ttl = Duration.ofSeconds(13);
            Mutex ofB = mutex(dlm, key(), OWNER_B, ttl);
            Mutex ofA = dlm.newMutex(key());
            assertThat(ofB.owner()).isEqualTo(OWNER_B);
            assertThat(ofB.ttl()).isEqualTo(ttl);
            assertThat(ofA.owner()).as("the default owner is untouched").isEqualTo(OWNER_A);
            assertThat(ofA.ttl()).isEqualTo(Duration.ofSeconds(7));

            Instant before = clock.instant();
            try (Lease lease = acquired(ofB.tryLock(), "owner-b's tryLock")) {
                Instant after = clock.instant();
                assertThat(lease.owner()).isEqualTo(OWNER_B);
                assertExpiresAt(lease.expiresAt(), before, after, ttl);
                assertThat(ofA.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
                assertThat(ofA.tryLock()).as("the Dlm's default owner is another holder").isEmpty();
            }
        }

        @Test
        @DisplayName("DlmOptions.defaults(): host name, 30 s ttl, 100 ms interval, no auto-refresh, UTC clock, 10 s timeout")
        void dlmOptionsDefaults() {
            DlmOptions defaults = DlmOptions.defaults();
            assertThat(defaults.defaultOwner()).isNotBlank();
            assertThat(defaults.defaultTtl()).isEqualTo(Duration.ofSeconds(30));
            assertThat(defaults.waitingInterval()).isEqualTo(Duration.ofMillis(100));
            assertThat(defaults.autoRefresh()).isFalse();
            assertThat(defaults.clock()).isEqualTo(Clock.systemUTC());
            assertThat(defaults.operationTimeout()).isEqualTo(Duration.ofSeconds(10));

            Mutex mutex = dlm(defaults).newMutex(key());
            assertThat(mutex.owner()).isEqualTo(defaults.defaultOwner());
            assertThat(mutex.ttl()).isEqualTo(Duration.ofSeconds(30));
            try (Lease lease = acquired(mutex.tryLock(), "tryLock")) {
                assertThat(lease.owner()).isEqualTo(defaults.defaultOwner());
            }
        }
    }

    // ==========================================================================================
    // Acquiring a free lock
    // ==========================================================================================

    @Nested
    @DisplayName("Acquiring a free lock")
    class Acquiring {

        private void assertFreshLease(Mutex mutex, Lease lease, Instant before, Instant after) {
            assertThat(lease.key()).isEqualTo(mutex.key());
            assertThat(lease.owner()).isEqualTo(mutex.owner());
            assertThat(lease.fencingToken()).as("fencing token").isPositive();
            assertExpiresAt(lease.expiresAt(), before, after, mutex.ttl());
            assertThat(lease.isValid()).as("isValid").isTrue();
        }

        @Test
        @DisplayName("tryLock gives a lease with key, owner, token > 0, expiresAt = time before the request + ttl, valid")
        void tryLockOnFreeKey() {
            Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
            Instant before = clock.instant();
            Lease lease = acquired(mutex.tryLock(), "tryLock");
            Instant after = clock.instant();
            assertFreshLease(mutex, lease, before, after);
            lease.close();
        }

        @Test
        @DisplayName("lock() on a free key gives a fresh lease at once")
        void lockOnFreeKey() throws InterruptedException {
            Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
            Instant before = clock.instant();
            long start = now();
            Lease lease = mutex.lock();
            assertThat(since(start)).isLessThan(LATE_SLACK);
            Instant after = clock.instant();
            assertFreshLease(mutex, lease, before, after);
            lease.close();
        }

        @Test
        @DisplayName("lock(maxWait) and lock(ZERO) on a free key give a fresh lease")
        void lockWithMaxWaitOnFreeKey() throws InterruptedException {
            Mutex mutex = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(5));
            Instant before = clock.instant();
            Lease lease = mutex.lock(Duration.ofSeconds(3));
            Instant after = clock.instant();
            assertFreshLease(mutex, lease, before, after);
            lease.close();

            Mutex other = dlm(OWNER_B).newMutex(key("zero"), Duration.ofSeconds(5));
            before = clock.instant();
            lease = other.lock(Duration.ZERO);
            after = clock.instant();
            assertFreshLease(other, lease, before, after);
            lease.close();
        }
    }

    // ==========================================================================================
    // Owner rule
    // ==========================================================================================

    @Nested
    @DisplayName("Owner rule: same key and owner are one holder, in any process")
    class OwnerRule {

        @Test
        @DisplayName("a second Dlm with the same owner locks at once, keeps the token, extends the expiry; others are kept out")
        void sameOwnerOnSecondDlmRelocksAtOnce() throws InterruptedException {
            Mutex first = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(1));
            Duration longer = Duration.ofSeconds(10);
            Mutex second = dlm(OWNER_A).newMutex(key(), longer);
            Mutex other = dlm(OWNER_B).newMutex(key());

            Lease lease1 = acquired(first.tryLock(), "first tryLock");
            Instant before = clock.instant();
            long start = now();
            Lease lease2 = acquired(second.tryLock(), "the same owner's tryLock through another Dlm");
            Instant after = clock.instant();
            assertThat(since(start)).as("succeeds at once").isLessThan(LATE_SLACK);
            assertThat(lease2.fencingToken()).as("same hold, same token").isEqualTo(lease1.fencingToken());
            assertThat(lease2.owner()).isEqualTo(OWNER_A);
            assertExpiresAt(lease2.expiresAt(), before, after, longer);

            LockInfo info = other.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
            assertThat(info.owner()).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).isEqualTo(lease1.fencingToken());
            assertThat(info.expiresAt()).as("expiry extended to the relock's ttl")
                    .isAfter(lease1.expiresAt().plus(Duration.ofSeconds(5)));

            assertThat(other.tryLock()).as("another owner's tryLock while held").isEmpty();
            assertThatThrownBy(() -> other.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
            lease2.close();
            lease1.close();
        }

        @Test
        @DisplayName("leases of the same owner through two Dlms refresh each other's hold")
        void sameOwnerRefreshesThroughEitherDlm() {
            Mutex first = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
            Mutex second = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
            Lease lease1 = acquired(first.tryLock(), "first tryLock");
            Lease lease2 = acquired(second.tryLock(), "second tryLock");
            assertThat(lease1.refresh()).as("refresh through the first Dlm").isTrue();
            assertThat(lease2.refresh()).as("refresh through the second Dlm").isTrue();
            assertThat(lease1.isValid()).isTrue();
            assertThat(lease2.isValid()).isTrue();
            assertThat(first.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease1.fencingToken());
            lease1.close();
        }

        @Test
        @DisplayName("one unlock through the other Dlm releases a hold locked twice (locks are not counted)")
        void oneUnlockFromOtherDlmReleases() {
            Mutex first = dlm(OWNER_A).newMutex(key());
            Mutex second = dlm(OWNER_A).newMutex(key());
            Mutex other = dlm(OWNER_B).newMutex(key());
            acquired(first.tryLock(), "first tryLock");
            acquired(second.tryLock(), "second tryLock");
            acquired(first.tryLock(), "third tryLock");

            second.unlock();
            assertThat(first.holder()).as("holder after one unlock").isEmpty();
            try (Lease taken = acquired(other.tryLock(), "another owner's tryLock after the unlock")) {
                assertThat(taken.owner()).isEqualTo(OWNER_B);
            }
        }

        @Test
        @DisplayName("closing the first lease releases the hold although the same owner relocked it elsewhere")
        void closingFirstLeaseReleasesRelockedHold() {
            Mutex first = dlm(OWNER_A).newMutex(key());
            Mutex second = dlm(OWNER_A).newMutex(key());
            Mutex other = dlm(OWNER_B).newMutex(key());
            Lease lease1 = acquired(first.tryLock(), "first tryLock");
            Lease lease2 = acquired(second.tryLock(), "second tryLock");

            lease1.close();
            assertThat(second.holder()).as("holder after closing the first lease").isEmpty();
            try (Lease taken = acquired(other.tryLock(), "another owner's tryLock")) {
                assertThat(lease2.refresh()).as("the second lease's refresh once another owner holds it").isFalse();
                assertThat(lease2.isValid()).isFalse();
                assertThat(taken.fencingToken()).isGreaterThan(lease1.fencingToken());
            }
        }

        @Test
        @DisplayName("two Mutex objects of one Dlm with the same key and owner are one holder")
        void twoMutexObjectsOfOneDlm() {
            Dlm dlm = dlm(OWNER_A);
            Mutex one = dlm.newMutex(key());
            Mutex two = dlm.newMutex(key());
            Lease lease = acquired(one.tryLock(), "tryLock through one mutex");
            Lease again = acquired(two.tryLock(), "tryLock through the other mutex");
            assertThat(again.fencingToken()).isEqualTo(lease.fencingToken());
            two.unlock();
            assertThat(one.holder()).as("holder after the other mutex's unlock").isEmpty();
            try (Lease taken = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "another owner's tryLock")) {
                assertThat(taken.owner()).isEqualTo(OWNER_B);
            }
        }
    }

    // ==========================================================================================
    // Relocking and refreshing extend the hold
    // ==========================================================================================

    @Nested
    @DisplayName("Relock and refresh extend the hold")
    class ExtendingTheHold {

        @Test
        @DisplayName("a relock at ~600 ms of a 1 s ttl makes a waiting owner wait until ttl after the relock")
        void relockDelaysWaiter() throws InterruptedException {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

            long start = now();
            Lease first = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
            pauseUntil(start + Duration.ofMillis(600).toNanos());

            long relockStart = now();
            Lease relocked = acquired(a.tryLock(), "owner-a's relock");
            assertThat(relocked.fencingToken()).isEqualTo(first.fencingToken());

            Lease taken = waiter.get(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - relockStart))
                    .as("owner-b acquired this long after the relock")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.fencingToken()).isGreaterThan(first.fencingToken());
            taken.close();
        }

        @Test
        @DisplayName("two relocks by the holder delay the waiter further")
        void twoRelocksDelayWaiterFurther() throws InterruptedException {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

            long start = now();
            Lease first = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
            pauseUntil(start + Duration.ofMillis(400).toNanos());
            Lease relock1 = acquired(a.tryLock(), "owner-a's first relock");
            pauseUntil(start + Duration.ofMillis(800).toNanos());
            long secondRelock = now();
            Lease relock2 = acquired(a.tryLock(), "owner-a's second relock");
            assertThat(relock1.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(relock2.fencingToken()).isEqualTo(first.fencingToken());

            Lease taken = waiter.get(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - secondRelock))
                    .as("owner-b acquired this long after the second relock")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - start))
                    .as("owner-b acquired this long after the first lock")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(1800).minus(EARLY_SLACK));
            taken.close();
        }

        @Test
        @DisplayName("lease.refresh() extends the hold by the ttl, moves expiresAt and keeps the token")
        void leaseRefreshExtendsHold() throws InterruptedException {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex b = dlm(OWNER_B).newMutex(key(), ttl);

            long start = now();
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            Instant firstExpiry = lease.expiresAt();
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
            pauseUntil(start + Duration.ofMillis(500).toNanos());

            Instant before = clock.instant();
            long refreshStart = now();
            assertThat(lease.refresh()).as("refresh of a live hold").isTrue();
            Instant after = clock.instant();
            assertExpiresAt(lease.expiresAt(), before, after, ttl);
            assertThat(lease.expiresAt()).isAfter(firstExpiry);
            assertThat(lease.isValid()).isTrue();
            assertThat(a.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease.fencingToken());

            Lease taken = waiter.get(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - refreshStart))
                    .as("owner-b acquired this long after the refresh")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
            taken.close();
        }
    }

    // ==========================================================================================
    // Expiry and handover
    // ==========================================================================================

    @Nested
    @DisplayName("Expiry and handover")
    class ExpiryAndHandover {

        @Test
        @DisplayName("a hold that is never unlocked passes to a waiter at its ttl, woken by the expiry, not by polling")
        void ttlHandover() throws InterruptedException {
            Duration ttl = Duration.ofMillis(700);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key(), ttl);

            long start = now();
            Lease held = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);

            Lease taken = waiter.get(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - start))
                    .as("owner-b acquired this long after owner-a")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.owner()).isEqualTo(OWNER_B);
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            assertThat(held.isValid()).as("owner-a's expired lease").isFalse();
            assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
            held.close();
            assertThat(b.holder()).as("owner-a's close does not release owner-b")
                    .get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
            taken.close();
        }

        @Test
        @DisplayName("unlock before expiry hands the lock to a waiter well before the holder's ttl")
        void unlockHandsOverToWaiter() throws InterruptedException {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Duration interval = Duration.ofMillis(200);
            Mutex b = dlm(options(OWNER_B).waitingInterval(interval).build()).newMutex(key());

            Lease held = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
            awaitBlocked(waiter);
            throughout("owner-b keeps waiting while owner-a holds", Duration.ofMillis(300)).until(() -> !waiter.isDone());

            long unlocked = now();
            a.unlock();
            Lease taken = waiter.get(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - unlocked))
                    .as("owner-b acquired this long after the unlock")
                    .isLessThan(interval.plus(LATE_SLACK));
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            taken.close();
        }

        @Test
        @DisplayName("a waiter is woken by the release, long before its waitingInterval (backends that push releases)")
        void releaseNotificationWakesWaiter() throws InterruptedException {
            Assumptions.assumeTrue(notifiesWaitersOnRelease(), "this backend does not push releases to waiters");
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());

            Lease held = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock()", b::lock);
            awaitBlocked(waiter);

            long unlocked = now();
            held.close();
            Lease taken = waiter.get(Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(waiter.finishedNanos() - unlocked))
                    .as("owner-b (waitingInterval 5 s) acquired this long after the release")
                    .isLessThan(LATE_SLACK);
            taken.close();
        }

        @Test
        @DisplayName("isValid turns false once expiresAt passes, and holder() turns empty after the ttl")
        void leaseTurnsInvalidAtExpiry() {
            Duration ttl = Duration.ofMillis(300);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Lease lease = acquired(a.tryLock(), "tryLock");
            assertThat(lease.isValid()).isTrue();
            eventually("the lease turns invalid", Duration.ofSeconds(2)).until(() -> !lease.isValid());
            assertThat(clock.instant()).as("invalid only once expiresAt passed").isAfterOrEqualTo(lease.expiresAt());
            eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
            lease.close();
        }

        @Test
        @DisplayName("after its hold expired, refresh() is false (nobody took it), onLost runs, and a relock is a new hold")
        void refreshAfterExpiryFails() {
            Duration ttl = Duration.ofMillis(300);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Lease lease = acquired(a.tryLock(), "tryLock");
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);
            eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());

            assertThat(lease.refresh()).as("refresh of an expired hold").isFalse();
            assertThat(a.holder()).as("a failed refresh takes nothing").isEmpty();
            eventually("onLost runs", Duration.ofSeconds(2)).until(() -> lost.get() == 1);
            assertThat(lease.isValid()).isFalse();

            try (Lease again = acquired(a.tryLock(), "the same owner's tryLock after expiry")) {
                assertThat(again.fencingToken()).as("a new hold, a new token").isGreaterThan(lease.fencingToken());
            }
            assertThat(lost.get()).as("onLost ran once").isEqualTo(1);
        }
    }

    // ==========================================================================================
    // Unlock and Lease.close
    // ==========================================================================================

    @Nested
    @DisplayName("unlock and Lease.close")
    class Unlocking {

        @Test
        @DisplayName("unlock by another owner is a no-op")
        void unlockByOtherOwnerIsNoOp() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            b.unlock();
            LockInfo info = a.holder().orElseThrow(() -> new AssertionError("owner-b's unlock released owner-a"));
            assertThat(info.owner()).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
            assertThat(b.tryLock()).isEmpty();
            assertThat(lease.isValid()).isTrue();
            assertThat(lease.refresh()).isTrue();
            lease.close();
        }

        @Test
        @DisplayName("unlock is idempotent, also on a key never locked, and never releases the next holder")
        void unlockIsIdempotent() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());
            a.unlock();
            assertThat(a.holder()).isEmpty();

            acquired(a.tryLock(), "owner-a's tryLock");
            a.unlock();
            a.unlock();
            assertThat(a.holder()).isEmpty();

            try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
                a.unlock();
                assertThat(b.holder()).as("owner-a's late unlock").get()
                        .extracting(LockInfo::owner).isEqualTo(OWNER_B);
                assertThat(taken.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("Lease.close releases at once and is idempotent; a late close never releases the next holder")
        void leaseCloseIsIdempotent() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            lease.close();
            assertThat(a.holder()).isEmpty();
            lease.close();
            try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock right after the close")) {
                lease.close();
                assertThat(b.holder()).as("owner-a's late close").get()
                        .extracting(LockInfo::owner).isEqualTo(OWNER_B);
                assertThat(taken.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("after close: isValid false, refresh false (and takes nothing), onLost never runs")
        void closedLease() {
            Mutex a = dlm(OWNER_A).newMutex(key(), Duration.ofMillis(600));
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);
            lease.close();

            assertThat(lease.isValid()).isFalse();
            assertThat(lease.refresh()).isFalse();
            assertThat(a.holder()).as("refresh after close takes nothing").isEmpty();
            lease.onLost(lost::incrementAndGet);

            try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
                assertThat(lease.refresh()).isFalse();
                throughout("onLost never runs after close", Duration.ofMillis(700)).until(() -> lost.get() == 0);
                assertThat(taken.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("a lease and a mutex unlock of the same owner are one release")
        void unlockThenLeaseClose() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            a.unlock();
            assertThat(a.holder()).isEmpty();
            assertThat(lease.refresh()).as("refresh after the owner's unlock").isFalse();
            lease.close();
            assertThat(lease.isValid()).isFalse();
        }
    }

    // ==========================================================================================
    // Fencing tokens
    // ==========================================================================================

    @Nested
    @DisplayName("Fencing tokens")
    class Fencing {

        @Test
        @DisplayName("strictly increase over 36 acquisitions: 4 owners, 2 Dlms, ended by unlock, close and expiry")
        void strictlyIncreaseAcrossReleaseAndExpiry() throws InterruptedException {
            Duration ttl = Duration.ofMillis(300);
            Dlm one = dlm(OWNER_A);
            Dlm two = dlm(OWNER_B);
            List<Mutex> mutexes = List.of(
                    one.newMutex(key(), ttl),
                    two.newMutex(key(), ttl),
                    mutex(one, key(), OWNER_C, ttl),
                    mutex(two, key(), OWNER_D, ttl));
            long last = 0;
            for (int i = 0; i < 36; i++) {
                Mutex mutex = mutexes.get(i % mutexes.size());
                Lease lease = mutex.lock(Duration.ofSeconds(5));
                assertThat(lease.fencingToken())
                        .as("token of acquisition %d (%s)", i, mutex.owner())
                        .isGreaterThan(last);
                last = lease.fencingToken();
                switch (i % 3) {
                    case 0 -> mutex.unlock();
                    case 1 -> lease.close();
                    default -> { } // let it expire: the next owner waits for the ttl
                }
            }
        }

        @Test
        @DisplayName("lease.refresh(), relocking and the same owner elsewhere keep the token")
        void refreshAndRelockKeepToken() throws InterruptedException {
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            Lease lease = acquired(mutex.tryLock(), "tryLock");
            long token = lease.fencingToken();
            assertThat(lease.refresh()).isTrue();
            assertThat(lease.fencingToken()).isEqualTo(token);
            assertThat(acquired(mutex.tryLock(), "relock by tryLock").fencingToken()).isEqualTo(token);
            assertThat(mutex.lock().fencingToken()).as("relock by lock()").isEqualTo(token);
            assertThat(mutex.lock(Duration.ZERO).fencingToken()).as("relock by lock(ZERO)").isEqualTo(token);
            assertThat(acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "relock through another Dlm").fencingToken())
                    .isEqualTo(token);
            assertThat(mutex.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(token);
            lease.close();
        }

        @Test
        @DisplayName("increase after the stored record was cleaned up following a release")
        void increaseAfterCleanupOfReleasedRecord() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            long first;
            try (Lease lease = acquired(a.tryLock(), "owner-a's tryLock")) {
                first = lease.fencingToken();
            }
            deleteStoredRecord(key());
            try (Lease lease = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "owner-b's tryLock after cleanup")) {
                assertThat(lease.fencingToken()).isGreaterThan(first);
            }
        }

        @Test
        @DisplayName("increase after the stored record of an expired hold was cleaned up (same owner again)")
        void increaseAfterCleanupOfExpiredRecord() {
            Duration ttl = Duration.ofMillis(300);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
            deleteStoredRecord(key());
            try (Lease again = acquired(a.tryLock(), "owner-a's tryLock after cleanup")) {
                assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
            }
        }

        @Test
        @DisplayName("increase across client restarts (Dlm closed, a new one created)")
        void increaseAcrossClientRestart() {
            Dlm first = dlm(OWNER_A);
            Lease held = acquired(first.newMutex(key()).tryLock(), "tryLock before the restart");
            first.close(); // releases the held lease

            Dlm second = dlm(OWNER_A);
            Mutex mutex = second.newMutex(key());
            Lease next = acquired(mutex.tryLock(), "tryLock after the first restart");
            assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
            next.close();
            second.close();

            Dlm third = dlm(OWNER_B);
            try (Lease last = acquired(third.newMutex(key()).tryLock(), "tryLock after the second restart")) {
                assertThat(last.fencingToken()).isGreaterThan(next.fencingToken());
            }
        }
    }

    // ==========================================================================================
    // Skewed client clocks
    // ==========================================================================================

    @Nested
    @DisplayName("Clients with skewed clocks (expiry is the backend's judgement)")
    class SkewedClocks {

        private final Clock fast = Clock.offset(Clock.systemUTC(), ONE_HOUR);
        private final Clock slow = Clock.offset(Clock.systemUTC(), ONE_HOUR.negated());

        @Test
        @DisplayName("a client one hour ahead does not steal a live lock, and waits for its real expiry")
        void fastClientDoesNotSteal() throws InterruptedException {
            Duration ttl = Duration.ofMillis(800);
            Mutex normal = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex ahead = dlm(options(OWNER_B).clock(fast).build()).newMutex(key(), ttl);

            long start = now();
            Lease held = acquired(normal.tryLock(), "the normal client's tryLock");
            assertThat(ahead.tryLock()).as("the +1 h client's tryLock while held").isEmpty();
            assertThatThrownBy(() -> ahead.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);

            Lease taken = ahead.lock(Duration.ofSeconds(5));
            assertThat(since(start)).as("the +1 h client acquired this long after the normal one")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            taken.close();
        }

        @Test
        @DisplayName("a client one hour behind does not wait an hour for an expired lock")
        void slowClientDoesNotWaitAnHour() throws InterruptedException {
            Duration ttl = Duration.ofMillis(700);
            Mutex normal = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex behind = dlm(options(OWNER_C).clock(slow).build()).newMutex(key(), ttl);

            long start = now();
            Lease held = acquired(normal.tryLock(), "the normal client's tryLock");
            assertThat(behind.tryLock()).as("the -1 h client's tryLock while held").isEmpty();

            Lease taken = behind.lock(Duration.ofSeconds(5));
            assertThat(since(start)).as("the -1 h client acquired this long after the normal one")
                    .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
            assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            taken.close();
        }

        @Test
        @DisplayName("leases' expiresAt and holder()'s expiresAt are on the reading client's clock")
        void estimatesAreOnOwnClock() {
            record Client(String owner, Clock clock, Dlm dlm) { }
            Duration ttl = Duration.ofSeconds(10);
            List<Client> clients = List.of(
                    new Client(OWNER_A, clock, dlm(OWNER_A)),
                    new Client(OWNER_B, fast, dlm(options(OWNER_B).clock(fast).build())),
                    new Client(OWNER_C, slow, dlm(options(OWNER_C).clock(slow).build())));

            for (Client holder : clients) {
                Mutex mutex = holder.dlm().newMutex(key(holder.owner()), ttl);
                Instant before = holder.clock().instant();
                Lease lease = acquired(mutex.tryLock(), holder.owner() + "'s tryLock");
                Instant after = holder.clock().instant();
                assertExpiresAt(lease.expiresAt(), before, after, ttl);
                assertThat(lease.isValid()).as("%s's lease is valid on its own clock", holder.owner()).isTrue();

                for (Client reader : clients) {
                    Instant readStart = reader.clock().instant();
                    LockInfo info = reader.dlm().newMutex(mutex.key()).holder()
                            .orElseThrow(() -> new AssertionError("holder() is empty"));
                    Instant readEnd = reader.clock().instant();
                    assertThat(info.owner()).isEqualTo(holder.owner());
                    assertThat(info.expiresAt())
                            .as("%s's hold read by %s, on the reader's clock", holder.owner(), reader.owner())
                            .isBetween(readStart.plus(ttl).minus(Duration.ofSeconds(3)), readEnd.plus(ttl).plus(LATE_SLACK));
                }
                lease.close();
            }
        }

        @Test
        @DisplayName("auto-refreshing clients one hour ahead and behind keep their locks")
        void skewedClientsAutoRefresh() {
            Duration ttl = Duration.ofMillis(600);
            Dlm normalDlm = dlm(OWNER_A);
            Mutex ahead = dlm(options(OWNER_B).clock(fast).autoRefresh(true).build()).newMutex(key("ahead"), ttl);
            Mutex behind = dlm(options(OWNER_C).clock(slow).autoRefresh(true).build()).newMutex(key("behind"), ttl);
            Mutex normalOnAhead = normalDlm.newMutex(key("ahead"));
            Mutex normalOnBehind = normalDlm.newMutex(key("behind"));

            Lease aheadLease = acquired(ahead.tryLock(), "the +1 h client's tryLock");
            Lease behindLease = acquired(behind.tryLock(), "the -1 h client's tryLock");
            throughout("the skewed clients keep their locks and the normal one is kept out", Duration.ofMillis(2000)).until(() ->
                    normalOnAhead.tryLock().isEmpty() && normalOnBehind.tryLock().isEmpty()
                            && aheadLease.isValid() && behindLease.isValid());
            aheadLease.close();
            behindLease.close();
        }
    }

    // ==========================================================================================
    // lock(maxWait)
    // ==========================================================================================

    @Nested
    @DisplayName("lock(maxWait)")
    class LockWithMaxWait {

        @Test
        @DisplayName("throws LockTimeoutException after about maxWait while another owner holds, and leaves no hold")
        void timesOutAfterMaxWait() throws InterruptedException {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease held = acquired(a.tryLock(), "owner-a's tryLock");

            Duration maxWait = Duration.ofMillis(500);
            long start = now();
            assertThatThrownBy(() -> b.lock(maxWait)).isInstanceOf(LockTimeoutException.class);
            assertThat(since(start)).as("gave up after")
                    .isBetween(maxWait.minusMillis(20), maxWait.plus(LATE_SLACK));

            assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
            held.close();
            assertThat(b.holder()).as("the timed-out waiter left no hold").isEmpty();
        }

        @Test
        @DisplayName("ends on time even when maxWait is far shorter than waitingInterval")
        void timesOutOnTimeWithLongWaitingInterval() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
            try (Lease held = acquired(a.tryLock(), "owner-a's tryLock")) {
                Duration maxWait = Duration.ofMillis(500);
                long start = now();
                assertThatThrownBy(() -> b.lock(maxWait)).isInstanceOf(LockTimeoutException.class);
                assertThat(since(start)).as("gave up after")
                        .isBetween(maxWait.minusMillis(20), maxWait.plus(LATE_SLACK));
                assertThat(held.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("lock(ZERO) is one try: LockTimeoutException at once when held")
        void zeroIsOneTry() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
            try (Lease held = acquired(a.tryLock(), "owner-a's tryLock")) {
                long start = now();
                assertThatThrownBy(() -> b.lock(Duration.ZERO)).isInstanceOf(LockTimeoutException.class);
                assertThat(since(start)).isLessThan(LATE_SLACK);
                assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_A);
                assertThat(held.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("succeeds when the holder unlocks within maxWait")
        void succeedsWhenReleasedWithinMaxWait() throws InterruptedException {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease held = acquired(a.tryLock(), "owner-a's tryLock");
            Attempt<Lease> waiter = inBackground("owner-b lock(5 s)", () -> b.lock(Duration.ofSeconds(5)));
            awaitBlocked(waiter);
            held.close();
            try (Lease taken = waiter.get(Duration.ofSeconds(5))) {
                assertThat(taken.owner()).isEqualTo(OWNER_B);
                assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            }
        }

        @Test
        @DisplayName("negative maxWait: IllegalArgumentException; null: NullPointerException; both name maxWait")
        void badMaxWait() {
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            assertThatThrownBy(() -> mutex.lock(Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWait");
            assertThatThrownBy(() -> mutex.lock(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("maxWait");
            assertThat(mutex.holder()).isEmpty();
        }
    }

    // ==========================================================================================
    // Interrupts
    // ==========================================================================================

    @Nested
    @DisplayName("Interrupts")
    class Interrupts {

        private void interruptWhileWaiting(boolean withMaxWait) throws InterruptedException {
            Mutex a = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build()).newMutex(key());
            Lease held = acquired(a.tryLock(), "owner-a's tryLock");

            Attempt<Lease> waiter = withMaxWait
                    ? inBackground("owner-b lock(20 s)", () -> b.lock(Duration.ofSeconds(20)))
                    : inBackground("owner-b lock()", b::lock);
            awaitBlocked(waiter);
            long interrupted = now();
            waiter.thread().interrupt();
            Throwable failure = waiter.failure(Duration.ofSeconds(5));
            assertThat(failure).isInstanceOf(InterruptedException.class);
            assertThat(Duration.ofNanos(waiter.finishedNanos() - interrupted))
                    .as("the interrupted wait ended after").isLessThan(LATE_SLACK);

            held.close();
            throughout("the interrupted owner-b holds nothing", Duration.ofMillis(500)).until(() ->
                    b.holder().map(LockInfo::owner).filter(OWNER_B::equals).isEmpty());
            try (Lease taken = acquired(dlm(OWNER_C).newMutex(key()).tryLock(), "owner-c's tryLock")) {
                assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
            }
        }

        @Test
        @DisplayName("an interrupt ends a lock() wait promptly with InterruptedException and leaves no hold")
        void interruptEndsLock() throws InterruptedException {
            interruptWhileWaiting(false);
        }

        @Test
        @DisplayName("an interrupt ends a lock(maxWait) wait promptly with InterruptedException and leaves no hold")
        void interruptEndsLockWithMaxWait() throws InterruptedException {
            interruptWhileWaiting(true);
        }

        @Test
        @DisplayName("with the interrupt flag already set, lock() and lock(maxWait) throw at once, even on a free lock")
        void alreadyInterrupted() {
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            for (boolean withMaxWait : new boolean[] {false, true}) {
                long start = now();
                Thread.currentThread().interrupt();
                try {
                    assertThatThrownBy(() -> {
                        if (withMaxWait) {
                            mutex.lock(Duration.ofSeconds(5));
                        } else {
                            mutex.lock();
                        }
                    }).as(withMaxWait ? "lock(5 s)" : "lock()").isInstanceOf(InterruptedException.class);
                } finally {
                    Thread.interrupted();
                }
                assertThat(since(start)).isLessThan(LATE_SLACK);
                assertThat(mutex.holder()).as("no hold left behind").isEmpty();
            }
            try (Lease taken = acquired(dlm(OWNER_B).newMutex(key()).tryLock(), "owner-b's tryLock")) {
                assertThat(taken.owner()).isEqualTo(OWNER_B);
            }
        }

        @Test
        @DisplayName("InterruptedException from lock() clears the interrupt flag, as java.util.concurrent locks do")
        void interruptedExceptionClearsFlag() {
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            Thread.currentThread().interrupt();
            boolean stillInterrupted;
            try {
                mutex.lock();
                fail("lock() should have thrown InterruptedException");
            } catch (InterruptedException expected) {
                // as asserted below
            } finally {
                stillInterrupted = Thread.interrupted();
            }
            assertThat(stillInterrupted).as("interrupt flag after InterruptedException").isFalse();
        }
    }

    // ==========================================================================================
    // Auto-refresh
    // ==========================================================================================

    @Nested
    @DisplayName("Auto-refresh")
    class AutoRefresh {

        @Test
        @DisplayName("MutexOptions.autoRefresh(true), ttl 1 s: holds for 3 s, expiresAt moves on; after close another owner gets it")
        void autoRefreshKeepsLock() {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
            Mutex b = dlm(OWNER_B).newMutex(key());

            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            Instant firstExpiry = lease.expiresAt();
            Duration margin = ttl.dividedBy(4);
            throughout("owner-b is kept out; the lease stays valid, renewed well before its expiry", Duration.ofSeconds(3))
                    .until(() -> b.tryLock().isEmpty() && lease.isValid()
                            && Duration.between(clock.instant(), lease.expiresAt()).compareTo(margin) > 0);
            assertThat(lease.expiresAt()).as("expiresAt after 3 s of auto-refresh")
                    .isAfter(firstExpiry.plus(Duration.ofMillis(1500)));
            assertThat(b.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(lease.fencingToken());

            lease.close();
            assertThat(b.holder()).as("holder right after close").isEmpty();
            throughout("the closed auto-refreshing lease does not take the lock again", Duration.ofMillis(700)).until(() -> b.holder().isEmpty());
            try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock after close")) {
                assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
            }
        }

        @Test
        @DisplayName("250 auto-refreshed leases of one Dlm (more than one refresh batch) all stay held for 3 ttls; one taken over is lost alone")
        void manyLeasesRefreshTogether() {
            // 2 s, not 1 s: a refresh round of 250 holds starved for more than two thirds of a 1 s ttl
            // on a loaded two-core machine (load average 9-14) and the leases were rightly lost
            Duration ttl = Duration.ofSeconds(2);
            Dlm a = dlm(options(OWNER_A).autoRefresh(true).build());
            List<Lease> leases = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                leases.add(acquired(a.newMutex(key("many-" + i), ttl).tryLock(), "owner-a's tryLock #" + i));
            }
            Lease victim = leases.get(137);
            AtomicInteger lost = new AtomicInteger();
            victim.onLost(lost::incrementAndGet);
            dlm(OWNER_A).newMutex(victim.key()).unlock(); // the same owner elsewhere ends that one hold

            eventually("the hold ended elsewhere is reported lost", ttl.multipliedBy(3)).until(() -> lost.get() == 1);
            throughout("every other lease stays valid through 3 ttls", ttl.multipliedBy(3))
                    .until(() -> leases.stream().filter(l -> l != victim).allMatch(Lease::isValid));
            Mutex b = dlm(OWNER_B).newMutex(key("many-" + 249));
            assertThat(b.tryLock()).as("owner-b's tryLock of an auto-refreshed key after 3 ttls").isEmpty();
            assertThat(b.holder()).get().extracting(LockInfo::fencingToken).isEqualTo(leases.get(249).fencingToken());
            assertThat(lost.get()).as("onLost runs once").isEqualTo(1);
            leases.forEach(Lease::close);
            assertThat(b.holder()).as("holder after close").isEmpty();
        }

        @Test
        @DisplayName("DlmOptions.autoRefresh(true) is the default of newMutex(key, ttl)")
        void dlmDefaultAutoRefresh() {
            Mutex a = dlm(options(OWNER_A).autoRefresh(true).build()).newMutex(key(), AUTO_REFRESH_DEFAULT_TTL);
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            refreshesByItself(lease, b);
            lease.close();
            assertThat(acquired(b.tryLock(), "owner-b's tryLock after close").owner()).isEqualTo(OWNER_B);
        }

        @Test
        @DisplayName("MutexOptions without autoRefresh falls back to the Dlm's autoRefresh(true)")
        void nullAutoRefreshFallsBackToTrue() {
            Mutex a = dlm(options(OWNER_A).autoRefresh(true).build())
                    .newMutex(MutexOptions.builder(key()).ttl(AUTO_REFRESH_DEFAULT_TTL).autoRefresh(null).build());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            refreshesByItself(lease, b);
            lease.close();
        }

        /**
         * Long enough that a loaded machine cannot starve the refresh past the expiry (a 500 ms ttl
         * did at load average 9-14), short enough that the first refresh (at a third) comes soon.
         */
        private static final Duration AUTO_REFRESH_DEFAULT_TTL = Duration.ofSeconds(3);

        /** The lease refreshed itself (its expiry moved on) while valid, and {@code other} is kept out. */
        private void refreshesByItself(Lease lease, Mutex other) {
            Instant first = lease.expiresAt();
            eventually("the lease refreshed itself: its expiry moved on", AUTO_REFRESH_DEFAULT_TTL.multipliedBy(2))
                    .until(() -> lease.expiresAt().isAfter(first));
            assertThat(lease.isValid()).as("the auto-refreshed lease is valid").isTrue();
            assertThat(other.tryLock()).as("another owner's tryLock of the auto-refreshed key").isEmpty();
        }

        @Test
        @DisplayName("MutexOptions.autoRefresh(false) overrides the Dlm's autoRefresh(true): the hold expires")
        void falseOverridesDlmDefault() throws InterruptedException {
            Duration ttl = Duration.ofMillis(500);
            Mutex a = dlm(options(OWNER_A).autoRefresh(true).build())
                    .newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(false).build());
            assertExpiresAfterTtl(a, ttl);
        }

        @Test
        @DisplayName("without autoRefresh anywhere (the default) the hold expires at its ttl")
        void noAutoRefreshByDefault() throws InterruptedException {
            Duration ttl = Duration.ofMillis(500);
            Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).build());
            assertExpiresAfterTtl(a, ttl);
        }

        private void assertExpiresAfterTtl(Mutex a, Duration ttl) throws InterruptedException {
            Mutex b = dlm(OWNER_B).newMutex(key());
            long start = now();
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            try (Lease taken = b.lock(Duration.ofSeconds(5))) {
                assertThat(since(start)).as("owner-b acquired after")
                        .isBetween(ttl.minus(EARLY_SLACK), ttl.plus(LATE_SLACK).plus(expiryGranularity()));
                assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
                assertThat(lease.isValid()).isFalse();
            }
        }
    }

    // ==========================================================================================
    // onLost
    // ==========================================================================================

    @Nested
    @DisplayName("onLost")
    class OnLost {

        @Test
        @DisplayName("runs once when another owner takes over an auto-refreshing hold; at once when registered after")
        void runsOnceWhenTakenOver() {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
            Mutex aElsewhere = dlm(OWNER_A).newMutex(key());
            Mutex b = dlm(OWNER_B).newMutex(key());

            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            AtomicInteger lost = new AtomicInteger();
            AtomicInteger lostToo = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);
            lease.onLost(lostToo::incrementAndGet);

            aElsewhere.unlock();
            Lease taken = acquired(b.tryLock(), "owner-b's tryLock after owner-a's other unlock");
            eventually("both onLost callbacks run", Duration.ofSeconds(3)).until(() -> lost.get() >= 1 && lostToo.get() >= 1);
            throughout("each onLost callback ran exactly once", Duration.ofMillis(800)).until(() -> lost.get() == 1 && lostToo.get() == 1);
            assertThat(lease.isValid()).isFalse();
            assertThat(lease.refresh()).isFalse();
            assertThat(b.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);

            AtomicInteger late = new AtomicInteger();
            lease.onLost(late::incrementAndGet);
            assertThat(late.get()).as("onLost registered after the loss ran at once").isEqualTo(1);
            assertThat(lost.get()).isEqualTo(1);
            taken.close();
        }

        @Test
        @DisplayName("runs once when the record of an auto-refreshing hold vanishes; the next owner gets a greater token")
        void runsOnceWhenRecordVanishes() {
            Duration ttl = Duration.ofSeconds(1);
            Mutex a = dlm(OWNER_A).newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);

            deleteStoredRecord(key());
            eventually("onLost runs", Duration.ofSeconds(3)).until(() -> lost.get() >= 1);
            assertThat(lease.isValid()).isFalse();
            assertThat(a.holder()).as("the lost lease does not recreate the hold").isEmpty();
            try (Lease taken = acquired(b.tryLock(), "owner-b's tryLock")) {
                assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
                throughout("onLost ran exactly once", Duration.ofMillis(700)).until(() -> lost.get() == 1);
            }
        }

        @Test
        @DisplayName("without auto-refresh: once the hold expired and was taken, refresh() is false and onLost runs once")
        void runsOnceOnFailedRefresh() throws InterruptedException {
            Duration ttl = Duration.ofMillis(400);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            AtomicInteger lost = new AtomicInteger();
            lease.onLost(lost::incrementAndGet);

            try (Lease taken = b.lock(Duration.ofSeconds(5))) {
                assertThat(lease.refresh()).as("refresh after another owner took it").isFalse();
                eventually("onLost runs", Duration.ofSeconds(2)).until(() -> lost.get() >= 1);
                assertThat(lease.refresh()).isFalse();
                throughout("onLost ran exactly once", Duration.ofMillis(500)).until(() -> lost.get() == 1);
                assertThat(lease.isValid()).isFalse();
                assertThat(a.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
                assertThat(taken.isValid()).isTrue();
            }
        }

        @Test
        @DisplayName("a null callback: NullPointerException naming callback")
        void nullCallback() {
            try (Lease lease = acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "tryLock")) {
                assertThatThrownBy(() -> lease.onLost(null))
                        .isInstanceOf(NullPointerException.class).hasMessageContaining("callback");
            }
        }
    }

    // ==========================================================================================
    // Dlm.close
    // ==========================================================================================

    @Nested
    @DisplayName("Dlm.close")
    class ClosingTheDlm {

        @Test
        @DisplayName("ends a wait in lock() on that Dlm with IllegalStateException, leaving no hold")
        void endsAWaitOnIt() throws InterruptedException {
            Dlm holderDlm = dlm(OWNER_A);
            Dlm waiterDlm = dlm(DlmOptions.builder().defaultOwner(OWNER_B).waitingInterval(Duration.ofSeconds(30)).build());
            Lease held = acquired(holderDlm.newMutex(key(), LONG_TTL).tryLock(), "holder's tryLock");
            Mutex waiting = waiterDlm.newMutex(key());
            Attempt<Lease> waiter = inBackground("owner-b lock()", waiting::lock);
            awaitBlocked(waiter);

            waiterDlm.close(); // at once, though the waiter's next try is 30 s away
            assertThat(waiter.failure(Duration.ofSeconds(3))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            held.close();
            assertThat(holderDlm.newMutex(key()).holder()).as("no hold left by the closed Dlm's waiter").isEmpty();
        }

        @Test
        @DisplayName("releases the leases held through it (another owner locks at once), invalidates them, runs no onLost")
        void releasesHeldLeases() {
            Dlm a = dlm(OWNER_A);
            Dlm b = dlm(OWNER_B);
            Lease plain = acquired(a.newMutex(key("plain")).tryLock(), "plain tryLock");
            Lease refreshing = acquired(a.newMutex(MutexOptions.builder(key("refreshing"))
                    .ttl(Duration.ofMillis(600)).autoRefresh(true).build()).tryLock(), "auto-refreshing tryLock");
            AtomicInteger lost = new AtomicInteger();
            plain.onLost(lost::incrementAndGet);
            refreshing.onLost(lost::incrementAndGet);

            a.close();
            assertThat(plain.isValid()).isFalse();
            assertThat(refreshing.isValid()).isFalse();
            Mutex bPlain = b.newMutex(key("plain"));
            Mutex bRefreshing = b.newMutex(key("refreshing"));
            assertThat(bPlain.holder()).as("holder after close").isEmpty();
            assertThat(bRefreshing.holder()).as("holder after close").isEmpty();
            Lease takenPlain = acquired(bPlain.tryLock(), "owner-b's tryLock on the plain key");
            Lease takenRefreshing = acquired(bRefreshing.tryLock(), "owner-b's tryLock on the refreshing key");
            assertThat(takenPlain.fencingToken()).isGreaterThan(plain.fencingToken());
            assertThat(takenRefreshing.fencingToken()).isGreaterThan(refreshing.fencingToken());
            throughout("no onLost, and owner-b keeps both locks", Duration.ofMillis(1000)).until(() -> lost.get() == 0
                    && bPlain.holder().map(LockInfo::owner).equals(Optional.of(OWNER_B))
                    && bRefreshing.holder().map(LockInfo::owner).equals(Optional.of(OWNER_B)));
            takenPlain.close();
            takenRefreshing.close();
        }

        @Test
        @DisplayName("is idempotent")
        void closeIsIdempotent() {
            Dlm a = dlm(OWNER_A);
            Lease lease = acquired(a.newMutex(key()).tryLock(), "tryLock");
            a.close();
            a.close();
            assertThat(lease.isValid()).isFalse();
            lease.close();
            assertThat(dlm(OWNER_B).newMutex(key()).holder()).isEmpty();
        }

        @Test
        @DisplayName("leaves the other Dlms on the backend working (never closes a client passed in)")
        void leavesOtherDlmsWorking() {
            Dlm a = dlm(OWNER_A);
            Dlm b = dlm(OWNER_B);
            acquired(a.newMutex(key("a")).tryLock(), "owner-a's tryLock");
            a.close();
            assertThat(b.ping().isNegative()).isFalse();
            try (Lease lease = acquired(b.newMutex(key("b")).tryLock(), "owner-b's tryLock after owner-a's Dlm closed")) {
                assertThat(lease.refresh()).isTrue();
            }
            Dlm c = dlm(OWNER_C);
            try (Lease lease = acquired(c.newMutex(key("a")).tryLock(), "a new Dlm's tryLock after another Dlm closed")) {
                assertThat(lease.owner()).isEqualTo(OWNER_C);
            }
        }

        @Test
        @DisplayName("does not release the holds of another Dlm")
        void doesNotReleaseOtherDlmsHolds() {
            Dlm a = dlm(OWNER_A);
            Dlm b = dlm(OWNER_B);
            acquired(a.newMutex(key("a")).tryLock(), "owner-a's tryLock");
            Lease bLease = acquired(b.newMutex(key("b")).tryLock(), "owner-b's tryLock");
            a.close();
            assertThat(bLease.isValid()).isTrue();
            Mutex c = dlm(OWNER_C).newMutex(key("b"));
            assertThat(c.holder()).get().extracting(LockInfo::owner).isEqualTo(OWNER_B);
            assertThat(c.tryLock()).isEmpty();
            assertThat(bLease.refresh()).isTrue();
            bLease.close();
        }

        @Test
        @DisplayName("does not release a hold that its lease gave up and the same owner took again through another Dlm")
        void doesNotReleaseWhatItNoLongerHolds() {
            Dlm first = dlm(OWNER_A);
            Dlm second = dlm(OWNER_A);
            Lease old = acquired(first.newMutex(key()).tryLock(), "tryLock through the first Dlm");
            old.close();
            Lease current = acquired(second.newMutex(key()).tryLock(), "tryLock through the second Dlm");
            first.close();
            assertThat(current.isValid()).isTrue();
            assertThat(second.newMutex(key()).holder()).as("holder after the first Dlm closed")
                    .get().extracting(LockInfo::fencingToken).isEqualTo(current.fencingToken());
            assertThat(dlm(OWNER_B).newMutex(key()).tryLock()).isEmpty();
            current.close();
        }
    }

    // ==========================================================================================
    // Mutual exclusion under load
    // ==========================================================================================

    @Nested
    @DisplayName("Mutual exclusion")
    class MutualExclusion {

        @Test
        @DisplayName("8 threads, 8 owners on 3 Dlms: never two in the critical section; tokens increase in acquisition order")
        void neverTwoHolders() throws InterruptedException {
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

    // ==========================================================================================
    // holder()
    // ==========================================================================================

    @Nested
    @DisplayName("holder()")
    class Holder {

        @Test
        @DisplayName("is empty on a free key")
        void emptyWhenFree() {
            assertThat(dlm(OWNER_A).newMutex(key()).holder()).isEmpty();
        }

        @Test
        @DisplayName("shows key, owner, the lease's token and an expiry close to the lease's, to every client")
        void showsTheHold() throws InterruptedException {
            Mutex a = dlm(OWNER_A).newMutex(key(), Duration.ofSeconds(10));
            Mutex b = dlm(OWNER_B).newMutex(key());
            try (Lease lease = a.lock()) {
                for (Mutex reader : List.of(a, b)) {
                    LockInfo info = reader.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
                    assertThat(info.key()).isEqualTo(key());
                    assertThat(info.owner()).isEqualTo(OWNER_A);
                    assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
                    assertThat(info.expiresAt()).as("holder's expiresAt, read by %s", reader.owner())
                            .isBetween(lease.expiresAt().minus(Duration.ofMillis(200)).minus(timeLeftResolution()),
                                    lease.expiresAt().plus(LATE_SLACK));
                }
            }
        }

        @Test
        @DisplayName("is empty after unlock")
        void emptyAfterUnlock() {
            Mutex a = dlm(OWNER_A).newMutex(key());
            acquired(a.tryLock(), "tryLock");
            assertThat(a.holder()).isPresent();
            a.unlock();
            assertThat(a.holder()).isEmpty();
            assertThat(dlm(OWNER_B).newMutex(key()).holder()).isEmpty();
        }

        @Test
        @DisplayName("is empty after expiry, not before")
        void emptyAfterExpiry() {
            Duration ttl = Duration.ofMillis(300);
            Mutex a = dlm(OWNER_A).newMutex(key(), ttl);
            long start = now();
            Lease lease = acquired(a.tryLock(), "tryLock");
            eventually("holder() turns empty after the ttl", ttl.plus(LATE_SLACK).plus(expiryGranularity())).until(() -> a.holder().isEmpty());
            assertThat(since(start)).as("the hold ended after").isGreaterThanOrEqualTo(ttl.minus(EARLY_SLACK));
            lease.close();
        }
    }

    // ==========================================================================================
    // ping()
    // ==========================================================================================

    @Nested
    @DisplayName("ping()")
    class Ping {

        @Test
        @DisplayName("returns a non-negative round trip below the operation timeout")
        void pingReturnsRoundTrip() {
            Duration timeout = Duration.ofSeconds(5);
            Dlm dlm = dlm(options(OWNER_A).operationTimeout(timeout).build());
            for (int i = 0; i < 3; i++) {
                Duration roundTrip = dlm.ping();
                assertThat(roundTrip).isNotNull();
                assertThat(roundTrip.isNegative()).as("negative round trip %s", roundTrip).isFalse();
                assertThat(roundTrip).isLessThan(timeout);
            }
        }
    }

    // ==========================================================================================
    // Arguments
    // ==========================================================================================

    @Nested
    @DisplayName("Bad arguments")
    class BadArguments {

        @Test
        @DisplayName("null key: NullPointerException naming key")
        void nullKey() {
            Dlm dlm = dlm(OWNER_A);
            assertThatThrownBy(() -> dlm.newMutex((String) null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
            assertThatThrownBy(() -> dlm.newMutex(null, Duration.ofSeconds(1)))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
            assertThatThrownBy(() -> MutexOptions.builder(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
        }

        @Test
        @DisplayName("empty key and 513-character keys: IllegalArgumentException naming key and 512")
        void badKeyLength() {
            Dlm dlm = dlm(OWNER_A);
            String ascii513 = key() + "x".repeat(513 - key().length());
            String unicode513 = key() + "ü".repeat(513 - key().length());
            for (String bad : List.of("", ascii513, unicode513)) {
                assertThatThrownBy(() -> dlm.newMutex(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
                assertThatThrownBy(() -> dlm.newMutex(bad, Duration.ofSeconds(1)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
                assertThatThrownBy(() -> MutexOptions.builder(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
            }
        }

        @Test
        @DisplayName("512-character keys work, ASCII and not")
        void longestKeys() {
            Dlm a = dlm(OWNER_A);
            Dlm b = dlm(OWNER_B);
            String ascii512 = key() + "x".repeat(512 - key().length());
            String unicode512 = key() + "ü".repeat(512 - key().length());
            for (String key : List.of(ascii512, unicode512)) {
                Mutex mutex = a.newMutex(key);
                try (Lease lease = acquired(mutex.tryLock(), "tryLock on a 512-character key")) {
                    assertThat(lease.key()).isEqualTo(key);
                    LockInfo info = b.newMutex(key).holder().orElseThrow(() -> new AssertionError("holder() is empty"));
                    assertThat(info.key()).isEqualTo(key);
                    assertThat(info.owner()).isEqualTo(OWNER_A);
                    assertThat(b.newMutex(key).tryLock()).isEmpty();
                }
                assertThat(mutex.holder()).isEmpty();
            }
        }

        @Test
        @DisplayName("keys with Unicode, spaces, $, dots, braces, quotes, newlines, case and accents are distinct locks")
        void unusualKeysAreDistinct() {
            List<String> suffixes = List.of("", " ", "  ", "x", "X", "é", "e\u0301", "ü", "日本語", "🔒", "$", "$where",
                    ".", "a.b", "{tag}", "{", "}", "'", "\"", "\\", "\n", "\t", "\r\n", "%", "_", "*", "?", "/", ":",
                    "ß", "ss");
            Dlm dlm = dlm(OWNER_A);
            Dlm reader = dlm(OWNER_B);
            List<Lease> leases = new ArrayList<>();
            for (int i = 0; i < suffixes.size(); i++) {
                String key = key() + suffixes.get(i);
                Mutex mutex = mutex(dlm, key, "owner-" + i, LONG_TTL);
                leases.add(acquired(mutex.tryLock(), "owner-" + i + "'s tryLock on key " + i + " (suffix '"
                        + suffixes.get(i).replace("\n", "\\n") + "')"));
            }
            for (int i = 0; i < suffixes.size(); i++) {
                String key = key() + suffixes.get(i);
                LockInfo info = reader.newMutex(key).holder()
                        .orElseThrow(() -> new AssertionError("holder() is empty for a key"));
                assertThat(info.key()).isEqualTo(key);
                assertThat(info.owner()).as("holder of key %d", i).isEqualTo("owner-" + i);
                assertThat(info.fencingToken()).isEqualTo(leases.get(i).fencingToken());
                leases.get(i).close();
                assertThat(reader.newMutex(key).holder()).isEmpty();
                if (i + 1 < suffixes.size()) {
                    assertThat(reader.newMutex(key() + suffixes.get(i + 1)).holder())
                            .as("releasing key %d left key %d held", i, i + 1).isPresent();
                }
            }
        }

        @Test
        @DisplayName("null owner: NullPointerException naming the owner")
        void nullOwner() {
            assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("defaultOwner");
        }

        @Test
        @DisplayName("empty, blank and 257-character owners: IllegalArgumentException naming owner and the rule")
        void badOwners() {
            for (String bad : List.of("", "o".repeat(257), "ö".repeat(257))) {
                assertThatThrownBy(() -> MutexOptions.builder(key()).owner(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("256");
                assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("256");
            }
            for (String blank : List.of(" ", "   ", "\t\n")) {
                assertThatThrownBy(() -> MutexOptions.builder(key()).owner(blank))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("blank");
                assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(blank))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("blank");
            }
        }

        @Test
        @DisplayName("256-character owners work and differ by their last character")
        void longestOwners() {
            String owner1 = "o".repeat(255) + "1";
            String owner2 = "o".repeat(255) + "2";
            Mutex one = dlm(owner1).newMutex(key());
            Mutex two = dlm(DlmOptions.builder().defaultOwner(owner2).build()).newMutex(key());
            try (Lease lease = acquired(one.tryLock(), "tryLock of a 256-character owner")) {
                assertThat(lease.owner()).isEqualTo(owner1);
                assertThat(two.holder()).get().extracting(LockInfo::owner).isEqualTo(owner1);
                assertThat(two.tryLock()).isEmpty();
            }
        }

        @Test
        @DisplayName("zero, negative and null ttl: IllegalArgumentException / NullPointerException naming ttl")
        void badTtl() {
            Dlm dlm = dlm(OWNER_A);
            for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1), Duration.ofSeconds(-30))) {
                assertThatThrownBy(() -> dlm.newMutex(key(), bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
                assertThatThrownBy(() -> MutexOptions.builder(key()).ttl(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
                assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultTtl").hasMessageContaining("positive");
            }
            assertThatThrownBy(() -> dlm.newMutex(key(), null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("ttl");
            assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("defaultTtl");
        }

        @Test
        @DisplayName("null options: NullPointerException naming options")
        void nullOptions() {
            Dlm dlm = dlm(OWNER_A);
            assertThatThrownBy(() -> dlm.newMutex((MutexOptions) null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("options");
            assertThatThrownBy(() -> {
                Dlm unexpected = createDlm(null);
                if (unexpected != null) {
                    unexpected.close();
                }
            }).isInstanceOf(NullPointerException.class).hasMessageContaining("options");
        }

        @Test
        @DisplayName("DlmOptions setters: null is NullPointerException, zero or negative durations IllegalArgumentException, naming the setting")
        void badDlmOptions() {
            assertThatThrownBy(() -> DlmOptions.builder().waitingInterval(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("waitingInterval");
            assertThatThrownBy(() -> DlmOptions.builder().operationTimeout(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("operationTimeout");
            assertThatThrownBy(() -> DlmOptions.builder().clock(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("clock");
            for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-5))) {
                assertThatThrownBy(() -> DlmOptions.builder().waitingInterval(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("waitingInterval");
                assertThatThrownBy(() -> DlmOptions.builder().operationTimeout(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operationTimeout");
            }
        }
    }

    // ==========================================================================================
    // Safety rules (docs/CONTRACT.md, "Safety rules")
    // ==========================================================================================

    /** Aborts the calling test (shown as skipped) if this backend is known to break {@code rule}. */
    protected final void requireRule(SafetyRule rule) {
        Map<SafetyRule, String> gaps = knownSafetyGaps();
        String reason = gaps != null ? gaps.get(rule) : null;
        if (reason != null) {
            Assumptions.abort("known gap: " + reason);
        }
    }

    /**
     * A deliberate delay of round {@code round} of a race test: none, a few microseconds, up to
     * 0.2, 1 or 3 ms, so that an interrupt or a close lands at varied moments of a call.
     */
    private static long variedDelayNanos(int round) {
        long[] bounds = {1, 20_000, 200_000, 1_000_000, 3_000_000};
        return ThreadLocalRandom.current().nextLong(bounds[round % bounds.length]);
    }

    /** Spins for {@code nanos}: a varied delay finer than a sleep, not a synchronisation. */
    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /** Waits for the latch without touching the interrupt flag. */
    private static void spinUntil(CountDownLatch latch) {
        while (latch.getCount() > 0) {
            Thread.onSpinWait();
        }
    }

    /** Slack between a lease's expiresAt and holder()'s: both are estimates of one stored expiry. */
    private Duration estimateSlack() {
        return LATE_SLACK.plus(timeLeftResolution()).plus(expiryGranularity());
    }

    /**
     * The outcomes of the last rounds of a race test, for its failure messages: a store operation
     * that a round abandoned (an interrupted wait for a reply) may still land during a later round.
     */
    private static String lastRounds(List<String> rounds) {
        return "; the last rounds: " + String.join("; ", rounds.subList(Math.max(0, rounds.size() - 4), rounds.size()));
    }

    private static WeakReference<Lease> lockWeakly(Mutex mutex, long[] tokens, int i) {
        Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("owner-a's tryLock #" + i + " should acquire the lock"));
        tokens[i] = lease.fencingToken();
        return new WeakReference<>(lease);
    }

    /** The tag of the safety-rule tests: {@code mvn ... -Dgroups=safety-rules} runs only them. */
    public static final String SAFETY_RULES_TAG = "safety-rules";

    @Nested
    @Tag(SAFETY_RULES_TAG)
    @DisplayName("Safety rules")
    class SafetyRules {

        // ---- RELOCK_NEVER_SHORTENS ------------------------------------------------------------

        @Test
        @DisplayName("a relock and a refresh with a 1 s ttl, through another Mutex and another Dlm of the owner, leave a 30 s hold at 30 s, and every lease reports it")
        void shorterRelockAndRefreshDoNotShorten() throws InterruptedException {
            requireRule(SafetyRule.RELOCK_NEVER_SHORTENS);
            Duration shortTtl = Duration.ofSeconds(1);
            Dlm one = dlm(OWNER_A);
            Dlm two = dlm(OWNER_A);
            Mutex longer = one.newMutex(key(), LONG_TTL);
            Mutex shorterHere = one.newMutex(key(), shortTtl);
            Mutex shorterThere = two.newMutex(key(), shortTtl);
            Mutex b = dlm(OWNER_B).newMutex(key());

            Instant before = clock.instant();
            Lease first = acquired(longer.tryLock(), "owner-a's tryLock with a 30 s ttl");
            Lease here = acquired(shorterHere.tryLock(), "owner-a's relock with a 1 s ttl through another Mutex of the Dlm");
            Lease there = acquired(shorterThere.tryLock(), "owner-a's relock with a 1 s ttl through another Dlm");
            assertThat(here.refresh()).as("refresh of a lease with a 1 s ttl, through the first Dlm").isTrue();
            assertThat(there.refresh()).as("refresh of a lease with a 1 s ttl, through the other Dlm").isTrue();
            long lastShort = now();

            pauseUntil(lastShort + shortTtl.plus(Duration.ofMillis(500)).plus(expiryGranularity()).toNanos());
            assertThat(b.tryLock()).as("owner-b's tryLock once the 1 s ttl of the relocks and refreshes passed").isEmpty();
            LockInfo info = b.holder().orElseThrow(() -> new AssertionError("holder() is empty: the 1 s relock shortened the 30 s hold"));
            assertThat(info.owner()).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(info.expiresAt()).as("holder()'s expiresAt: the 30 s hold, not shortened")
                    .isAfter(before.plus(LONG_TTL).minus(validityAllowance(LONG_TTL)).minus(timeLeftResolution()).minus(LATE_SLACK));
            Duration slack = estimateSlack();
            List<Lease> leases = List.of(first, here, there);
            List<String> names = List.of("the 30 s lease", "the 1 s relock's lease (same Dlm)", "the 1 s relock's lease (other Dlm)");
            for (int i = 0; i < leases.size(); i++) {
                Lease lease = leases.get(i);
                assertThat(lease.isValid()).as("isValid of %s, while the hold lasts 30 s", names.get(i)).isTrue();
                assertThat(lease.expiresAt()).as("expiresAt of %s: what the store has (holder() says %s)", names.get(i), info.expiresAt())
                        .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));
            }
        }

        @Test
        @DisplayName("a relock with a longer ttl makes the earlier lease of the Dlm report the longer expiry and stay valid past its own ttl")
        void longerRelockExtendsEarlierLease() throws InterruptedException {
            requireRule(SafetyRule.LEASES_REPORT_STORE_EXPIRY);
            Duration shortTtl = Duration.ofSeconds(1);
            Dlm dlm = dlm(OWNER_A);
            Mutex shorter = dlm.newMutex(key(), shortTtl);
            Mutex longer = dlm.newMutex(key(), LONG_TTL);
            Mutex b = dlm(OWNER_B).newMutex(key());

            Lease early = acquired(shorter.tryLock(), "owner-a's tryLock with a 1 s ttl");
            Lease later = acquired(longer.tryLock(), "owner-a's relock with a 30 s ttl through another Mutex of the Dlm");
            long relocked = now();
            LockInfo info = b.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
            Duration slack = estimateSlack();
            assertThat(later.expiresAt()).as("expiresAt of the 30 s relock's lease (holder() says %s)", info.expiresAt())
                    .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));
            assertThat(early.expiresAt()).as("expiresAt of the earlier 1 s lease after the 30 s relock (holder() says %s)", info.expiresAt())
                    .isBetween(info.expiresAt().minus(slack), info.expiresAt().plus(slack));

            pauseUntil(relocked + shortTtl.plus(Duration.ofMillis(500)).plus(expiryGranularity()).toNanos());
            assertThat(b.tryLock()).as("owner-b's tryLock after the earlier lease's own ttl").isEmpty();
            assertThat(early.isValid()).as("isValid of the earlier 1 s lease, past its own ttl, while the hold lasts 30 s").isTrue();
            assertThat(later.isValid()).isTrue();
        }

        // ---- RELOCK_KEEPS_TOKEN ---------------------------------------------------------------

        @Test
        @DisplayName("relocks after auto-refresh rounds, through another Mutex, another Dlm and after a refresh keep the first token, which holder() shows")
        void relocksKeepTheFirstToken() throws InterruptedException {
            requireRule(SafetyRule.RELOCK_KEEPS_TOKEN);
            Duration ttl = Duration.ofMillis(1500);
            Dlm one = dlm(OWNER_A);
            Dlm two = dlm(OWNER_A);
            Mutex refreshing = one.newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
            Mutex reader = dlm(OWNER_B).newMutex(key());

            Lease first = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock");
            long token = first.fencingToken();
            Instant firstExpiry = first.expiresAt();
            eventually("two auto-refresh rounds move expiresAt on", Duration.ofSeconds(6))
                    .until(() -> first.expiresAt().isAfter(firstExpiry.plus(ttl.dividedBy(2))));
            assertThat(reader.holder()).as("holder after auto-refresh rounds").get()
                    .extracting(LockInfo::fencingToken).isEqualTo(token);

            Lease viaMutex = acquired(one.newMutex(key(), ttl).tryLock(), "relock through another Mutex of the Dlm");
            assertThat(viaMutex.fencingToken()).as("token of the relock through another Mutex").isEqualTo(token);
            Lease viaDlm = acquired(two.newMutex(key()).tryLock(), "relock through another Dlm");
            assertThat(viaDlm.fencingToken()).as("token of the relock through another Dlm").isEqualTo(token);
            assertThat(viaDlm.refresh()).as("refresh through the other Dlm").isTrue();
            assertThat(viaDlm.fencingToken()).isEqualTo(token);
            Lease afterRefresh = two.newMutex(key()).lock(Duration.ofSeconds(5));
            assertThat(afterRefresh.fencingToken()).as("token of lock(5 s) through the other Dlm after the refresh").isEqualTo(token);
            Lease byLock = two.newMutex(key()).lock();
            assertThat(byLock.fencingToken()).as("token of lock() through the other Dlm").isEqualTo(token);
            assertThat(reader.holder()).as("holder after the relocks").get()
                    .extracting(LockInfo::fencingToken).isEqualTo(token);

            // the hold now lasts 30 s, so expiresAt need not move: let two more refresh periods pass
            pauseUntil(now() + ttl.dividedBy(3).multipliedBy(2).plus(Duration.ofMillis(200)).toNanos());
            assertThat(first.isValid()).as("the auto-refreshed lease after the relocks").isTrue();
            Lease again = refreshing.lock(Duration.ZERO);
            assertThat(again.fencingToken()).as("token of lock(ZERO) through the auto-refreshed mutex").isEqualTo(token);
            LockInfo info = reader.holder().orElseThrow(() -> new AssertionError("holder() is empty"));
            assertThat(info.owner()).isEqualTo(OWNER_A);
            assertThat(info.fencingToken()).as("holder()'s token at the end").isEqualTo(token);
        }

        // ---- FAILED_RELOCK_KEEPS_HOLD ---------------------------------------------------------

        @Test
        @DisplayName("relocks by the same owner through other Dlms, interrupted at 30 varied moments, never release the hold")
        void interruptedRelockKeepsTheHold() throws InterruptedException {
            requireRule(SafetyRule.FAILED_RELOCK_KEEPS_HOLD);
            Lease held = acquired(dlm(OWNER_A).newMutex(key()).tryLock(), "owner-a's tryLock through the first Dlm");
            long token = held.fencingToken();
            Mutex reader = dlm(OWNER_B).newMutex(key());
            int interrupted = 0;
            List<String> rounds = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                boolean interruptFirst = i % 10 == 0;
                boolean withMaxWait = i % 2 == 1;
                String what = "round " + i + ": " + (withMaxWait ? "lock(5 s)" : "lock()") + " through a new Dlm of owner-a"
                        + (interruptFirst ? ", interrupted before it starts" : "");
                // a new Dlm each round: it has no lease of its own on the key, so a cleanup after the
                // interrupt could only release the hold of the first Dlm
                Mutex relocker = dlm(OWNER_A).newMutex(key());
                CountDownLatch started = new CountDownLatch(1);
                // a lease it gets is dropped, not closed: closing it would end the shared hold (owner rule)
                Attempt<Lease> relock = inBackground("relock " + i, () -> {
                    if (interruptFirst) {
                        Thread.currentThread().interrupt();
                    }
                    started.countDown();
                    return withMaxWait ? relocker.lock(Duration.ofSeconds(5)) : relocker.lock();
                });
                started.await();
                if (!interruptFirst) {
                    spin(variedDelayNanos(i));
                    relock.thread().interrupt();
                }
                Throwable failure = relock.failureOrNull(Duration.ofSeconds(10));
                rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "got a lease"));
                if (failure != null) {
                    assertThat(failure).as(what + " ended with").isInstanceOf(InterruptedException.class);
                    interrupted++;
                } else {
                    assertThat(relock.get(Duration.ZERO).fencingToken()).as(what + ": token of its lease").isEqualTo(token);
                }
                relock.thread().join(TimeUnit.SECONDS.toMillis(5));
                LockInfo info = reader.holder().orElseThrow(() -> new AssertionError(
                        "owner-a's hold is gone after " + what + lastRounds(rounds)));
                assertThat(info.owner()).as(what + ": holder" + lastRounds(rounds)).isEqualTo(OWNER_A);
                assertThat(info.fencingToken()).as(what + ": token of the hold" + lastRounds(rounds)).isEqualTo(token);
                assertThat(held.isValid()).as(what + ": the first Dlm's lease").isTrue();
            }
            assertThat(interrupted).as("rounds that ended with InterruptedException").isPositive();
            assertThat(held.refresh()).as("refresh of the first lease after 30 interrupted relocks").isTrue();
        }

        @Test
        @DisplayName("a relock(5 s) whose Dlm is closed under it never releases the hold of the owner's other Dlm (20 rounds)")
        void relockEndedByCloseKeepsTheHold() throws InterruptedException {
            requireRule(SafetyRule.FAILED_RELOCK_KEEPS_HOLD);
            Mutex holding = dlm(OWNER_A).newMutex(key());
            Lease held = acquired(holding.tryLock(), "owner-a's tryLock through the first Dlm");
            Mutex reader = dlm(OWNER_B).newMutex(key());
            List<String> rounds = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String what = "round " + i + ": lock(5 s) through a second Dlm of owner-a, closed under it";
                long token = held.fencingToken();
                Dlm second = dlm(OWNER_A);
                Mutex relocker = second.newMutex(key());
                CountDownLatch started = new CountDownLatch(1);
                Attempt<Lease> relock = inBackground("relock " + i, () -> {
                    started.countDown();
                    return relocker.lock(Duration.ofSeconds(5));
                });
                started.await();
                spin(variedDelayNanos(i));
                second.close();
                Throwable failure = relock.failureOrNull(Duration.ofSeconds(10));
                relock.thread().join(TimeUnit.SECONDS.toMillis(5));
                rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "got a lease"));
                if (failure == null) {
                    // it relocked before the close, and closing its Dlm released that lease and with
                    // it the owner's hold, as it should: take the lock again for the next round
                    held = holding.lock(Duration.ofSeconds(5));
                    continue;
                }
                LockInfo info = reader.holder().orElseThrow(() -> new AssertionError(
                        "owner-a's hold is gone after " + what + lastRounds(rounds)));
                assertThat(info.owner()).as(what + ": holder" + lastRounds(rounds)).isEqualTo(OWNER_A);
                assertThat(info.fencingToken()).as(what + ": token of the hold" + lastRounds(rounds)).isEqualTo(token);
                assertThat(held.isValid()).as(what + ": the first Dlm's lease").isTrue();
            }
        }

        // ---- CLOSE_ENDS_EVERY_LEASE -----------------------------------------------------------

        private void endingOneEndsAll(String how, int which) {
            Dlm dlm = dlm(OWNER_A);
            Mutex refreshing = dlm.newMutex(MutexOptions.builder(key()).ttl(Duration.ofSeconds(1)).autoRefresh(true).build());
            Mutex plain = dlm.newMutex(key(), LONG_TTL);
            Mutex third = dlm.newMutex(key());
            Lease first = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock (ttl 1 s)");
            Lease second = acquired(plain.tryLock(), "owner-a's relock through a second Mutex of the Dlm");
            Lease again = acquired(refreshing.tryLock(), "owner-a's relock through the first Mutex");
            List<Lease> leases = List.of(first, second, again);
            List<String> names = List.of("the first (auto-refreshed) lease", "the second Mutex's lease", "the first Mutex's second lease");
            AtomicInteger lost = new AtomicInteger();
            leases.forEach(lease -> lease.onLost(lost::incrementAndGet));

            switch (which) {
                case 0 -> first.close();
                case 1 -> second.close();
                default -> third.unlock();
            }
            for (int i = 0; i < leases.size(); i++) {
                assertThat(leases.get(i).isValid()).as("isValid of %s after %s", names.get(i), how).isFalse();
            }
            for (int i = 0; i < leases.size(); i++) {
                assertThat(leases.get(i).refresh()).as("refresh of %s after %s", names.get(i), how).isFalse();
            }
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease taken = acquired(b.tryLock(), "owner-b's tryLock right after " + how);
            throughout("after " + how + ": no onLost runs, no lease turns valid, owner-b keeps the lock", Duration.ofSeconds(1))
                    .until(() -> lost.get() == 0 && leases.stream().noneMatch(Lease::isValid)
                            && b.holder().map(LockInfo::fencingToken).equals(Optional.of(taken.fencingToken())));
            taken.close();
        }

        @Test
        @DisplayName("closing the first lease ends every lease of that key and owner in the Dlm: invalid, refresh false, no onLost, another owner locks at once")
        void closingTheFirstLeaseEndsAll() {
            requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
            endingOneEndsAll("closing the first lease", 0);
        }

        @Test
        @DisplayName("closing a relock's lease ends every lease of that key and owner in the Dlm: invalid, refresh false, no onLost, another owner locks at once")
        void closingARelockLeaseEndsAll() {
            requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
            endingOneEndsAll("closing the relock's lease", 1);
        }

        @Test
        @DisplayName("unlock() through a third Mutex of the Dlm ends every lease of that key and owner in it: invalid, refresh false, no onLost")
        void unlockThroughThirdMutexEndsAll() {
            requireRule(SafetyRule.CLOSE_ENDS_EVERY_LEASE);
            endingOneEndsAll("unlock() through a third Mutex", 2);
        }

        // ---- INTERRUPT_LEAVES_NO_HOLD ---------------------------------------------------------

        @Test
        @DisplayName("lock() on a free key, interrupted at 30 varied moments, leaves no hold once the lease it got is closed; InterruptedException clears the flag")
        void interruptedLockOnFreeKeyLeavesNoHold() throws InterruptedException {
            requireRule(SafetyRule.INTERRUPT_LEAVES_NO_HOLD);
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            Mutex reader = dlm(OWNER_B).newMutex(key());
            record Outcome(boolean gotLease, boolean flagAfterInterruptedException) { }
            List<String> rounds = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                boolean interruptFirst = i % 10 == 0;
                boolean withMaxWait = i % 2 == 1;
                String what = "round " + i + ": " + (withMaxWait ? "lock(5 s)" : "lock()") + " on a free key"
                        + (interruptFirst ? ", interrupted before it starts" : "");
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch interruptSent = new CountDownLatch(1);
                Attempt<Outcome> locker = inBackground("lock " + i, () -> {
                    if (interruptFirst) {
                        Thread.currentThread().interrupt();
                    }
                    started.countDown();
                    Lease lease;
                    try {
                        lease = withMaxWait ? mutex.lock(Duration.ofSeconds(5)) : mutex.lock();
                    } catch (InterruptedException e) {
                        return new Outcome(false, Thread.currentThread().isInterrupted());
                    }
                    // the interrupt must not land in close(): wait until it was sent, then clear it
                    spinUntil(interruptSent);
                    Thread.interrupted();
                    lease.close();
                    return new Outcome(true, false);
                });
                started.await();
                if (!interruptFirst) {
                    spin(variedDelayNanos(i));
                    locker.thread().interrupt();
                }
                interruptSent.countDown();
                Outcome outcome = locker.get(Duration.ofSeconds(10));
                locker.thread().join(TimeUnit.SECONDS.toMillis(5));
                assertThat(locker.thread().isAlive()).as(what + ": thread ended").isFalse();
                rounds.add("round " + i + " " + (outcome.gotLease() ? "got a lease, closed it" : "InterruptedException"));
                assertThat(outcome.flagAfterInterruptedException()).as(what + ": interrupt flag after InterruptedException").isFalse();
                assertThat(reader.holder()).as(what + ": holder() once the thread ended" + lastRounds(rounds)).isEmpty();
            }
        }

        @Test
        @DisplayName("tryLock() interrupted at 30 varied moments keeps the interrupt flag and leaves no hold it gave no lease for")
        void interruptedTryLockLeavesNoHold() throws InterruptedException {
            requireRule(SafetyRule.INTERRUPT_LEAVES_NO_HOLD);
            Mutex mutex = dlm(OWNER_A).newMutex(key());
            Mutex reader = dlm(OWNER_B).newMutex(key());
            record Outcome(boolean gotLease, RuntimeException failure, boolean flagAfterwards) { }
            List<String> rounds = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                boolean interruptFirst = i % 10 == 0;
                String what = "round " + i + ": tryLock() on a free key" + (interruptFirst ? ", interrupted before it starts" : "");
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch interruptSent = new CountDownLatch(1);
                Attempt<Outcome> locker = inBackground("tryLock " + i, () -> {
                    if (interruptFirst) {
                        Thread.currentThread().interrupt();
                    }
                    started.countDown();
                    Optional<Lease> lease = Optional.empty();
                    RuntimeException failure = null;
                    try {
                        lease = mutex.tryLock();
                    } catch (RuntimeException e) {
                        failure = e;
                    }
                    spinUntil(interruptSent);
                    boolean flag = Thread.interrupted(); // reads and clears it, so that close() runs uninterrupted
                    lease.ifPresent(Lease::close);
                    return new Outcome(lease.isPresent(), failure, flag);
                });
                started.await();
                if (!interruptFirst) {
                    spin(variedDelayNanos(i));
                    locker.thread().interrupt();
                }
                interruptSent.countDown();
                Outcome outcome = locker.get(Duration.ofSeconds(10));
                locker.thread().join(TimeUnit.SECONDS.toMillis(5));
                String result = outcome.gotLease() ? "got a lease, closed it"
                        : outcome.failure() != null ? "threw " + outcome.failure() : "empty";
                rounds.add("round " + i + " " + result);
                assertThat(outcome.flagAfterwards()).as(what + " (" + result + "): interrupt flag afterwards").isTrue();
                assertThat(reader.holder()).as(what + ": holder() once the thread ended" + lastRounds(rounds)).isEmpty();
            }
        }

        // ---- LOST_BY_LOCAL_EXPIRY -------------------------------------------------------------

        @Test
        @DisplayName("an auto-refreshed lease (ttl 1.5 s) whose backend stops answering is lost, onLost run, no later than its expiresAt + 1 s")
        void lostByLocalExpiryWhenBackendFreezes() throws InterruptedException {
            requireRule(SafetyRule.LOST_BY_LOCAL_EXPIRY);
            Duration ttl = Duration.ofMillis(1500);
            // a refresh round that hangs for the timeout after a third of the ttl ends just before the
            // expiry: an engine that marks the lease lost only at the end of a failed round is late
            Duration operationTimeout = Duration.ofMillis(900);
            Dlm dlm = dlm(options(OWNER_A).operationTimeout(operationTimeout).build());
            Mutex mutex = dlm.newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(true).build());
            Lease lease = acquired(mutex.tryLock(), "owner-a's auto-refreshed tryLock");
            CountDownLatch lost = new CountDownLatch(1);
            AtomicInteger lostCount = new AtomicInteger();
            Instant[] lostAt = new Instant[2];
            boolean[] validInCallback = new boolean[1];
            lease.onLost(() -> {
                lostAt[0] = clock.instant();
                lostAt[1] = lease.expiresAt();
                validInCallback[0] = lease.isValid();
                lostCount.incrementAndGet();
                lost.countDown();
            });
            Instant frozenAt;
            try {
                freezeBackend();
                frozenAt = clock.instant();
                assertThat(lost.await(10, TimeUnit.SECONDS)).as("onLost runs while the backend does not answer").isTrue();
            } finally {
                thawBackend();
            }
            Instant expiry = lostAt[1];
            assertThat(expiry).as("expiresAt when onLost ran: from a refresh answered before the freeze")
                    .isBeforeOrEqualTo(frozenAt.plus(ttl).plus(expiryGranularity()));
            assertThat(lostAt[0]).as("when onLost ran: no later than the lease's expiresAt %s plus %s", expiry, LATE_SLACK)
                    .isBeforeOrEqualTo(expiry.plus(LATE_SLACK));
            assertThat(validInCallback[0]).as("isValid when onLost ran").isFalse();
            assertThat(lease.isValid()).isFalse();
            assertThat(lostCount.get()).as("onLost ran once").isEqualTo(1);
        }

        // ---- EXPIRED_LEASES_FORGOTTEN ---------------------------------------------------------

        @Test
        @DisplayName("200 leases that expire unclosed (some taken over by another owner, some by the owner elsewhere) are forgotten, and close() is quick and releases none")
        void expiredLeasesAreForgotten() throws InterruptedException {
            requireRule(SafetyRule.EXPIRED_LEASES_FORGOTTEN);
            int count = 200;
            Duration ttl = Duration.ofMillis(200);
            Dlm a = dlm(OWNER_A);
            List<Mutex> mutexes = new ArrayList<>(); // reachable, as a user's would be
            List<WeakReference<Lease>> leases = new ArrayList<>();
            long[] tokens = new long[count];
            for (int i = 0; i < count; i++) {
                Mutex mutex = a.newMutex(key("expiring-" + i), ttl);
                mutexes.add(mutex);
                leases.add(lockWeakly(mutex, tokens, i));
            }

            Dlm b = dlm(OWNER_B);
            Dlm elsewhere = dlm(OWNER_A);
            List<Lease> takenByB = new ArrayList<>();
            List<Lease> takenElsewhere = new ArrayList<>();
            Duration maxWait = Duration.ofSeconds(5).plus(expiryGranularity());
            for (int i = 0; i < 40; i++) {
                Lease taken = b.newMutex(key("expiring-" + i)).lock(maxWait);
                assertThat(taken.fencingToken()).as("owner-b's token on expired key %d", i).isGreaterThan(tokens[i]);
                takenByB.add(taken);
            }
            for (int i = 40; i < 60; i++) {
                Mutex mutex = elsewhere.newMutex(key("expiring-" + i));
                eventually("owner-a's hold on key " + i + " expires", maxWait).until(() -> mutex.holder().isEmpty());
                Lease taken = acquired(mutex.tryLock(), "owner-a's tryLock through another Dlm on expired key " + i);
                assertThat(taken.fencingToken()).as("a new hold on expired key %d", i).isGreaterThan(tokens[i]);
                takenElsewhere.add(taken);
            }

            await("every expired lease is garbage-collected").pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                    .atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        System.gc();
                        assertThat(leases.stream().filter(ref -> ref.get() != null).count())
                                .as("expired, unclosed leases of %d still reachable (the Mutex objects are kept; the Dlm should forget them)", count)
                                .isZero();
                    });
            assertThat(mutexes).hasSize(count);

            long start = now();
            a.close();
            assertThat(since(start)).as("close() of the Dlm whose %d leases expired took", count).isLessThan(LATE_SLACK);
            Dlm reader = dlm(OWNER_C);
            for (Lease taken : takenByB) {
                assertThat(reader.newMutex(taken.key()).holder()).as("owner-b's hold on %s after owner-a's Dlm closed", taken.key())
                        .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
            }
            for (Lease taken : takenElsewhere) {
                assertThat(reader.newMutex(taken.key()).holder())
                        .as("owner-a's new hold through another Dlm on %s, after the first Dlm (whose lease expired) closed", taken.key())
                        .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
                assertThat(taken.isValid()).isTrue();
            }
        }

        // ---- CLOSED_DLM_ENDS_CALLS ------------------------------------------------------------

        private void assertClosedAtOnce(String what, Callable<?> call) throws InterruptedException {
            long start = now();
            Attempt<?> attempt = inBackground(what, call);
            Throwable failure = attempt.failure(Duration.ofSeconds(5));
            assertThat(failure).as(what + " on a closed Dlm").isInstanceOf(IllegalStateException.class);
            assertThat(Duration.ofNanos(attempt.finishedNanos() - start)).as(what + " on a closed Dlm failed after").isLessThan(LATE_SLACK);
        }

        @Test
        @DisplayName("after close(): newMutex, lock, lock(maxWait), tryLock, unlock, holder and ping throw IllegalStateException at once; refresh() is false, Lease.close() a no-op")
        void everyCallAfterCloseFails() throws InterruptedException {
            requireRule(SafetyRule.CLOSED_DLM_ENDS_CALLS);
            Dlm dlm = dlm(OWNER_A);
            Mutex mutex = dlm.newMutex(key(), LONG_TTL);
            Mutex refreshing = dlm.newMutex(MutexOptions.builder(key("refreshing")).ttl(Duration.ofSeconds(1)).autoRefresh(true).build());
            Lease lease = acquired(mutex.tryLock(), "owner-a's tryLock");
            Lease refreshed = acquired(refreshing.tryLock(), "owner-a's auto-refreshed tryLock");
            dlm.close();

            Dlm other = dlm(OWNER_B);
            Lease taken = acquired(other.newMutex(key()).tryLock(), "owner-b's tryLock after the close");
            assertClosedAtOnce("newMutex(key)", () -> dlm.newMutex(key()));
            assertClosedAtOnce("newMutex(key, ttl)", () -> dlm.newMutex(key(), Duration.ofSeconds(5)));
            assertClosedAtOnce("newMutex(options)", () -> dlm.newMutex(MutexOptions.builder(key()).build()));
            assertClosedAtOnce("lock() on a held key", mutex::lock);
            assertClosedAtOnce("lock(20 s) on a held key", () -> mutex.lock(Duration.ofSeconds(20)));
            assertClosedAtOnce("lock(ZERO)", () -> mutex.lock(Duration.ZERO));
            assertClosedAtOnce("lock() on a free key", refreshing::lock);
            assertClosedAtOnce("tryLock()", mutex::tryLock);
            assertClosedAtOnce("unlock()", () -> {
                mutex.unlock();
                return null;
            });
            assertClosedAtOnce("holder()", mutex::holder);
            assertClosedAtOnce("ping()", dlm::ping);

            for (Lease closed : List.of(lease, refreshed)) {
                assertThat(closed.refresh()).as("refresh() of %s after close()", closed.key()).isFalse();
                assertThat(closed.isValid()).isFalse();
                closed.close();
            }
            assertThat(other.newMutex(key()).holder()).as("owner-b's hold after the closed Dlm's Lease.close()")
                    .get().extracting(LockInfo::fencingToken).isEqualTo(taken.fencingToken());
            assertThat(other.newMutex(key("refreshing")).holder()).as("the auto-refreshed key after close()").isEmpty();
        }

        @Test
        @DisplayName("a Dlm closed while lock(), lock(maxWait), tryLock() or holder() runs ends it with IllegalStateException or its result, never another exception, leaving no hold (20 rounds)")
        void closeDuringCallsEndsThemCleanly() throws InterruptedException {
            requireRule(SafetyRule.CLOSED_DLM_ENDS_CALLS);
            Lease held = acquired(dlm(OWNER_A).newMutex(key("held")).tryLock(), "owner-a's tryLock");
            Dlm readers = dlm(OWNER_C);
            Mutex readHeld = readers.newMutex(key("held"));
            Mutex readFree = readers.newMutex(key("free"));
            String[] kinds = {"a lock() waiting on a held key", "a lock(20 s) waiting on a held key",
                    "a lock() starting on a free key", "a tryLock() starting on a free key", "a holder() starting"};
            List<String> rounds = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int kind = i % kinds.length;
                String what = "round " + i + ": " + kinds[kind] + ", its Dlm closed under it";
                Dlm closing = dlm(options(OWNER_B).waitingInterval(Duration.ofSeconds(5)).build());
                Mutex onHeld = closing.newMutex(key("held"));
                Mutex onFree = closing.newMutex(key("free"));
                Callable<Object> call = switch (kind) {
                    case 0 -> onHeld::lock;
                    case 1 -> () -> onHeld.lock(Duration.ofSeconds(20));
                    case 2 -> onFree::lock;
                    case 3 -> onFree::tryLock;
                    default -> onHeld::holder;
                };
                CountDownLatch started = new CountDownLatch(1);
                Attempt<Object> attempt = inBackground("call " + i, () -> {
                    started.countDown();
                    return call.call();
                });
                started.await();
                if (kind <= 1) {
                    awaitBlocked(attempt);
                } else {
                    spin(variedDelayNanos(i));
                }
                closing.close();
                Throwable failure = attempt.failureOrNull(Duration.ofSeconds(5));
                attempt.thread().join(TimeUnit.SECONDS.toMillis(5));
                rounds.add("round " + i + " " + (failure != null ? "threw " + failure : "returned"));
                if (kind <= 1 || failure != null) {
                    assertThat(failure).as(what + ": ended with").isInstanceOf(IllegalStateException.class);
                }
                assertThat(readFree.holder().map(LockInfo::owner)).as(what + ": the free key's holder afterwards" + lastRounds(rounds))
                        .isNotEqualTo(Optional.of(OWNER_B));
                LockInfo info = readHeld.holder().orElseThrow(() -> new AssertionError(what + ": owner-a's hold is gone" + lastRounds(rounds)));
                assertThat(info.owner()).as(what + ": the held key's holder afterwards").isEqualTo(OWNER_A);
                assertThat(info.fencingToken()).isEqualTo(held.fencingToken());
            }
        }
    }
}
