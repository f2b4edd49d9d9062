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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.awaitility.core.ConditionFactory;

import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * The conformance suite of API.md that every backend passes. A backend module extends it with a
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

    // ------------------------------------------------------------------------------------------
    // Fixture
    // ------------------------------------------------------------------------------------------

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
            this.thread = new Thread(() -> {
                try {
                    T value = task.call();
                    finishedNanos = System.nanoTime();
                    outcome.complete(value);
                } catch (Throwable e) {
                    finishedNanos = System.nanoTime();
                    outcome.completeExceptionally(e);
                }
            }, "conformance-" + name);
            this.thread.setDaemon(true);
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
            Duration ttl = Duration.ofSeconds(1);
            Dlm a = dlm(options(OWNER_A).autoRefresh(true).build());
            List<Lease> leases = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                leases.add(acquired(a.newMutex(key("many-" + i), ttl).tryLock(), "owner-a's tryLock #" + i));
            }
            Lease victim = leases.get(137);
            AtomicInteger lost = new AtomicInteger();
            victim.onLost(lost::incrementAndGet);
            dlm(OWNER_A).newMutex(victim.key()).unlock(); // the same owner elsewhere ends that one hold

            eventually("the hold ended elsewhere is reported lost", Duration.ofSeconds(3)).until(() -> lost.get() == 1);
            throughout("every other lease stays valid through 3 ttls", Duration.ofSeconds(3))
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
            Duration ttl = Duration.ofMillis(500);
            Mutex a = dlm(options(OWNER_A).autoRefresh(true).build()).newMutex(key(), ttl);
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            throughout("owner-b is kept out and the auto-refreshed lease stays valid", Duration.ofMillis(1600)).until(() -> b.tryLock().isEmpty() && lease.isValid());
            lease.close();
            assertThat(acquired(b.tryLock(), "owner-b's tryLock after close").owner()).isEqualTo(OWNER_B);
        }

        @Test
        @DisplayName("MutexOptions without autoRefresh falls back to the Dlm's autoRefresh(true)")
        void nullAutoRefreshFallsBackToTrue() {
            Duration ttl = Duration.ofMillis(500);
            Mutex a = dlm(options(OWNER_A).autoRefresh(true).build())
                    .newMutex(MutexOptions.builder(key()).ttl(ttl).autoRefresh(null).build());
            Mutex b = dlm(OWNER_B).newMutex(key());
            Lease lease = acquired(a.tryLock(), "owner-a's tryLock");
            throughout("owner-b is kept out and the auto-refreshed lease stays valid", Duration.ofMillis(1600)).until(() -> b.tryLock().isEmpty() && lease.isValid());
            lease.close();
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
}
