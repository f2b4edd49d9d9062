package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import io.dlm4j.testkit.ConformanceSuite.SafetyRule;
import org.junit.jupiter.api.Assumptions;
import org.awaitility.core.ConditionFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the tests of every topic contract see: the backend under test, through the hooks that
 * {@link ConformanceSuite} documents and a backend overrides there, the {@link TestResources} of the
 * running test, and the helpers the tests share. {@link ConformanceSuite} implements it for each of
 * its nested topic classes; a topic interface extends it and holds nothing but tests.
 */
public interface ConformanceFixture {

    String OWNER_A = "owner-a";
    String OWNER_B = "owner-b";
    String OWNER_C = "owner-c";
    String OWNER_D = "owner-d";

    /** A ttl that does not pass during a test. */
    Duration LONG_TTL = Duration.ofSeconds(30);
    /** How much earlier than exact a lower timing bound may be met (ms rounding of stores). */
    Duration EARLY_SLACK = Duration.ofMillis(100);
    /** How much later than ideal an upper timing bound may be met (a stalled 2-core machine). */
    Duration LATE_SLACK = Duration.ofSeconds(1);

    // ------------------------------------------------------------------------------------------
    // The backend under test: see the hooks of the same names in ConformanceSuite
    // ------------------------------------------------------------------------------------------

    /** See {@link ConformanceSuite#createDlm}; use {@link #dlm(DlmOptions)}, which closes it after the test. */
    Dlm createDlm(DlmOptions options);

    /** See {@link ConformanceSuite#deleteStoredRecord}. */
    void deleteStoredRecord(String key);

    /** See {@link ConformanceSuite#validityAllowance}. */
    Duration validityAllowance(Duration ttl);

    /** See {@link ConformanceSuite#timeLeftResolution}. */
    Duration timeLeftResolution();

    /** See {@link ConformanceSuite#expiryGranularity}. */
    Duration expiryGranularity();

    /** See {@link ConformanceSuite#notifiesWaitersOnRelease}. */
    boolean notifiesWaitersOnRelease();

    /** See {@link ConformanceSuite#knownSafetyGaps}. */
    Map<SafetyRule, String> knownSafetyGaps();

    /** See {@link ConformanceSuite#freezeBackend}; a test thaws in a {@code finally}. */
    void freezeBackend();

    /** See {@link ConformanceSuite#thawBackend}. */
    void thawBackend();

    /** What the running test opened, ended after it. */
    TestResources resources();

    // ------------------------------------------------------------------------------------------
    // Per test: keys, Dlms and threads that are cleaned up after it
    // ------------------------------------------------------------------------------------------

    /** The clock of the "normal" clients and of the test's own time readings. */
    default Clock clock() {
        return Clock.systemUTC();
    }

    /** The key of this test: its name and a random suffix. */
    default String key() {
        return resources().key();
    }

    /** Another key of this test. */
    default String key(String suffix) {
        return key() + "-" + suffix;
    }

    /** Options of a normal client: the given default owner and a ttl that does not pass. */
    default DlmOptions.Builder options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).defaultTtl(LONG_TTL);
    }

    /** A fresh Dlm whose default owner is {@code owner}; closed after the test. */
    default Dlm dlm(String owner) {
        return dlm(options(owner).build());
    }

    /** A fresh Dlm; closed after the test. */
    default Dlm dlm(DlmOptions options) {
        Dlm dlm = createDlm(options);
        assertThat(dlm).as("createDlm(options)").isNotNull();
        return resources().closeAfterTest(dlm);
    }

    /** Runs {@code task} on a thread of its own; it is interrupted and joined after the test. */
    default <T> Attempt<T> inBackground(String name, Callable<T> task) {
        return resources().start(name, task);
    }

    // ------------------------------------------------------------------------------------------
    // Shared steps and checks
    // ------------------------------------------------------------------------------------------

    /** A mutex on this test's key with the given owner and ttl, through {@code dlm}. */
    default Mutex mutex(Dlm dlm, String key, String owner, Duration ttl) {
        return dlm.newMutex(MutexOptions.builder(key).owner(owner).ttl(ttl).build());
    }

    default Lease acquired(Optional<Lease> lease, String what) {
        assertThat(lease).as(what + " should acquire the lock").isPresent();
        return lease.get();
    }

    /** Awaitility, polling fast and starting at once; {@code what} names the condition in failures. */
    default ConditionFactory eventually(String what, Duration atMost) {
        return await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).atMost(atMost);
    }

    /** Checks a condition repeatedly for {@code period}; it must hold every time. */
    default ConditionFactory throughout(String what, Duration period) {
        return await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                .during(period).atMost(period.plus(Duration.ofSeconds(3)));
    }

    default long now() {
        return System.nanoTime();
    }

    default Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /**
     * A deliberate delay: the scenario needs time to pass (a hold to age before a relock), so
     * there is nothing to synchronise on.
     */
    default void pauseUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Waits until the attempt's thread is blocked (inside lock(), waiting) and not finished. */
    default void awaitBlocked(Attempt<?> attempt) {
        eventually(attempt.name() + " blocks", Duration.ofSeconds(5)).until(() -> attempt.isDone() || attempt.isBlocked());
        assertThat(attempt.isDone()).as(attempt.name() + " should still be waiting").isFalse();
    }

    default void assertExpiresAt(Instant expiresAt, Instant before, Instant after, Duration ttl) {
        // A backend that can promise less than the ttl (Redlock's validity) may take off its
        // allowance and the time the request took.
        Duration allowance = validityAllowance(ttl);
        Instant earliest = allowance.isZero() ? before.plus(ttl) : before.plus(ttl).minus(allowance)
                .minus(Duration.between(before, after));
        assertThat(expiresAt)
                .as("expiresAt: taken before the request, plus the ttl %s (less %s)", ttl, allowance)
                .isBetween(earliest, after.plus(ttl).plus(expiryGranularity()));
    }

    /** Aborts the calling test (shown as skipped) if this backend is known to break {@code rule}. */
    default void requireRule(SafetyRule rule) {
        Map<SafetyRule, String> gaps = knownSafetyGaps();
        String reason = gaps != null ? gaps.get(rule) : null;
        if (reason != null) {
            Assumptions.abort("known gap: " + reason);
        }
    }

    /** Slack between a lease's expiresAt and holder()'s: both are estimates of one stored expiry. */
    default Duration estimateSlack() {
        return LATE_SLACK.plus(timeLeftResolution()).plus(expiryGranularity());
    }
}
