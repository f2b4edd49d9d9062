package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
 * <p>The tests live in one interface per topic, {@code *Contract}, as {@code @Test} default
 * methods: {@link DefaultsContract}, {@link AcquiringContract}, {@link OwnerRuleContract},
 * {@link ExtendingTheHoldContract}, {@link ExpiryAndHandoverContract}, {@link UnlockingContract},
 * {@link FencingContract}, {@link SkewedClocksContract}, {@link LockWithMaxWaitContract},
 * {@link InterruptsContract}, {@link AutoRefreshContract}, {@link OnLostContract},
 * {@link ClosingTheDlmContract}, {@link MutualExclusionContract}, {@link HolderContract},
 * {@link PingContract}, {@link BadArgumentsContract}, and the safety rules in
 * {@link RelockSafetyRulesContract}, {@link LeaseEndSafetyRulesContract} and
 * {@link InterruptAndCloseSafetyRulesContract}. This class runs each topic as one of its
 * {@code @Nested} classes, so the test tree and reports keep one readable group per topic; each
 * nested class only binds its topic to the {@link ConformanceFixture} that the tests see: the
 * hooks below, as the backend overrides them, and the {@link TestResources} of the running test.
 * The checks of arguments that the engine makes before any store call are dlm4j-core's
 * {@code BadArgumentsTest}, run once instead of on every backend.
 *
 * <p>The suite closes every Dlm a test creates, and interrupts and joins every thread it started,
 * after the test. Each test works on keys of its own (test name plus a random suffix), so backends
 * may share one server or table across tests. Timing assertions use generous bounds: a lower bound
 * is exact up to {@link ConformanceFixture#EARLY_SLACK} (a hold must never end before its ttl), an
 * upper bound allows {@link ConformanceFixture#LATE_SLACK} plus {@link #expiryGranularity()} for a
 * slow machine.
 *
 * <p>The safety rules of the contract are the nested {@code SafetyRules} tests (tag
 * {@value #SAFETY_RULES_TAG}, declared on their contracts). A backend that breaks a rule today
 * lists it in {@link #knownSafetyGaps()}, and one whose server can be frozen implements
 * {@link #freezeBackend()} and {@link #thawBackend()}. With the system property
 * {@value #VIRTUAL_THREADS_PROPERTY}{@code =true} (on Java 21 or later) every thread the suite
 * starts is a virtual thread.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class ConformanceSuite {

    /** The tag of the safety-rule tests: {@code mvn ... -Dgroups=safety-rules} runs only them. */
    public static final String SAFETY_RULES_TAG = "safety-rules";

    /** The system property that makes the suite's threads virtual (Java 21 or later). */
    public static final String VIRTUAL_THREADS_PROPERTY = "dlm4j.test.virtualThreads";

    private final TestResources resources = new TestResources();

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
     * How much later than its ttl a hold may end on this backend, beyond
     * {@link ConformanceFixture#LATE_SLACK}: zero where the backend expires holds to the
     * millisecond; a backend that rounds ttls up (etcd leases: whole seconds) or expires them in
     * periodic sweeps overrides it.
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

    @BeforeEach
    void checkThreadMode() {
        TestThreads.checkMode();
    }

    @BeforeEach
    void nameTheKey(TestInfo info) {
        resources.nameKeyAfter(info.getTestMethod().map(Method::getName).orElse("test"));
    }

    @AfterEach
    void closeEverything() throws Exception {
        resources.endAll();
    }

    /**
     * A topic's tests bound to this backend: the fixture answers with the hooks of the enclosing
     * suite (as the backend overrides them) and the resources of the running test.
     */
    private abstract class Topic implements ConformanceFixture {

        @Override
        public Dlm createDlm(DlmOptions options) {
            return ConformanceSuite.this.createDlm(options);
        }

        @Override
        public void deleteStoredRecord(String key) {
            ConformanceSuite.this.deleteStoredRecord(key);
        }

        @Override
        public Duration validityAllowance(Duration ttl) {
            return ConformanceSuite.this.validityAllowance(ttl);
        }

        @Override
        public Duration timeLeftResolution() {
            return ConformanceSuite.this.timeLeftResolution();
        }

        @Override
        public Duration expiryGranularity() {
            return ConformanceSuite.this.expiryGranularity();
        }

        @Override
        public boolean notifiesWaitersOnRelease() {
            return ConformanceSuite.this.notifiesWaitersOnRelease();
        }

        @Override
        public Map<SafetyRule, String> knownSafetyGaps() {
            return ConformanceSuite.this.knownSafetyGaps();
        }

        @Override
        public void freezeBackend() {
            ConformanceSuite.this.freezeBackend();
        }

        @Override
        public void thawBackend() {
            ConformanceSuite.this.thawBackend();
        }

        @Override
        public TestResources resources() {
            return resources;
        }
    }

    // ------------------------------------------------------------------------------------------
    // The topics
    // ------------------------------------------------------------------------------------------

    @Nested
    @DisplayName("Defaults of the Dlm")
    class Defaults extends Topic implements DefaultsContract {
    }

    @Nested
    @DisplayName("Acquiring a free lock")
    class Acquiring extends Topic implements AcquiringContract {
    }

    @Nested
    @DisplayName("Owner rule: same key and owner are one holder, in any process")
    class OwnerRule extends Topic implements OwnerRuleContract {
    }

    @Nested
    @DisplayName("Relock and refresh extend the hold")
    class ExtendingTheHold extends Topic implements ExtendingTheHoldContract {
    }

    @Nested
    @DisplayName("Expiry and handover")
    class ExpiryAndHandover extends Topic implements ExpiryAndHandoverContract {
    }

    @Nested
    @DisplayName("unlock and Lease.close")
    class Unlocking extends Topic implements UnlockingContract {
    }

    @Nested
    @DisplayName("Fencing tokens")
    class Fencing extends Topic implements FencingContract {
    }

    @Nested
    @DisplayName("Clients with skewed clocks (expiry is the backend's judgement)")
    class SkewedClocks extends Topic implements SkewedClocksContract {
    }

    @Nested
    @DisplayName("lock(maxWait)")
    class LockWithMaxWait extends Topic implements LockWithMaxWaitContract {
    }

    @Nested
    @DisplayName("Interrupts")
    class Interrupts extends Topic implements InterruptsContract {
    }

    @Nested
    @DisplayName("Auto-refresh")
    class AutoRefresh extends Topic implements AutoRefreshContract {
    }

    @Nested
    @DisplayName("onLost")
    class OnLost extends Topic implements OnLostContract {
    }

    @Nested
    @DisplayName("Dlm.close")
    class ClosingTheDlm extends Topic implements ClosingTheDlmContract {
    }

    @Nested
    @DisplayName("Mutual exclusion")
    class MutualExclusion extends Topic implements MutualExclusionContract {
    }

    @Nested
    @DisplayName("holder()")
    class Holder extends Topic implements HolderContract {
    }

    @Nested
    @DisplayName("ping()")
    class Ping extends Topic implements PingContract {
    }

    @Nested
    @DisplayName("Bad arguments")
    class BadArguments extends Topic implements BadArgumentsContract {
    }

    /** Tagged {@value #SAFETY_RULES_TAG} by its contracts. */
    @Nested
    @DisplayName("Safety rules")
    class SafetyRules extends Topic
            implements RelockSafetyRulesContract, LeaseEndSafetyRulesContract, InterruptAndCloseSafetyRulesContract {
    }
}
