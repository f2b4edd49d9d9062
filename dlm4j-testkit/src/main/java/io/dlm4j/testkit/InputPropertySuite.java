package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.testkit.InputGenerators.length;
import static io.dlm4j.testkit.InputGenerators.printable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Property tests of the argument rules of the contract (docs/CONTRACT.md) on a backend: every key of 1 to 512 characters
 * (code points) and every non-blank owner of 1 to 256 works, whatever it is made of; everything
 * outside the rules is refused with the documented exception naming the argument; and no input
 * leaves a hold behind or disturbs the hold of another key. Inputs come from
 * {@link InputGenerators}; {@link ForAll} runs the tries and shrinks a failing input.
 *
 * <p>A backend module extends it with a factory for Dlms on a server it starts:
 *
 * <pre>{@code
 * class RedisInputPropertyTest extends InputPropertySuite {
 *     @BeforeAll static void start() { server = RedisServer.start(); }
 *     @AfterAll static void stop() { server.close(); }
 *     protected Dlm createDlm(DlmOptions options) { return Dlms.fromUri(server.uri(), options); }
 * }
 * }</pre>
 *
 * <p>Keys are used as generated, on a server the properties may share with other tests: owners
 * unique to each test keep another test's holds apart, and each try releases what it took, also
 * when it fails, so that the next try (and the shrinking) starts clean.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
public abstract class InputPropertySuite {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final List<Dlm> dlms = new CopyOnWriteArrayList<>();
    private Dlm dlmOfA;
    private Dlm dlmOfB;

    // ------------------------------------------------------------------------------------------
    // What a backend provides
    // ------------------------------------------------------------------------------------------

    /** A fresh Dlm on the backend under test. The suite closes it after each test. */
    protected abstract Dlm createDlm(DlmOptions options);

    /** Tries per property on a server backend: every kind of character many times, in seconds. */
    protected int tries() {
        return 60;
    }

    /**
     * The shortest ttl this backend can grant. The contract allows any positive ttl; a backend
     * that cannot grant a hold shorter than a round trip (Redlock: validity = ttl - elapsed -
     * drift) overrides this and says so as a known limit.
     */
    protected Duration shortestGrantableTtl() {
        return Duration.ofNanos(1);
    }

    // ------------------------------------------------------------------------------------------
    // Fixture
    // ------------------------------------------------------------------------------------------

    @AfterEach
    void closeDlms() {
        dlms.forEach(Dlm::close);
        dlms.clear();
    }

    private String ownerA() {
        return "prop-a-" + run;
    }

    private String ownerB() {
        return "prop-b-" + run;
    }

    private Dlm dlm(String owner) {
        Dlm dlm = createDlm(DlmOptions.builder().defaultOwner(owner).defaultTtl(TTL).build());
        dlms.add(dlm);
        return dlm;
    }

    private Dlm a() {
        if (dlmOfA == null) {
            dlmOfA = dlm(ownerA());
        }
        return dlmOfA;
    }

    private Dlm b() {
        if (dlmOfB == null) {
            dlmOfB = dlm(ownerB());
        }
        return dlmOfB;
    }

    private static Lease acquired(Optional<Lease> lease, String what) {
        return lease.orElseThrow(() -> new AssertionError(what + " did not acquire a free lock"));
    }

    /** Releases a try's holds also when its assertions failed, so that the next try starts clean. */
    private static void releaseQuietly(Mutex... mutexes) {
        for (Mutex mutex : mutexes) {
            try {
                mutex.unlock();
            } catch (RuntimeException e) {
                // the assertion that failed is the one to report
            }
        }
    }

    private void assertHeldBy(String key, String owner, long token) {
        LockInfo info = b().newMutex(key).holder()
                .orElseThrow(() -> new AssertionError("the hold on " + printable(key) + " is gone"));
        assertThat(info.owner()).as("owner of the hold on %s", printable(key)).isEqualTo(owner);
        assertThat(info.fencingToken()).as("token of the hold on %s", printable(key)).isEqualTo(token);
    }

    // ------------------------------------------------------------------------------------------
    // 1. Any valid key
    // ------------------------------------------------------------------------------------------

    @Test
    @DisplayName("any key of 1 to 512 characters locks, is reported by holder(), unlocks and leaves no hold")
    void anyValidKeyLocksReportsAndUnlocksLeavingNoHold() {
        ForAll.strings(InputGenerators::validKey).check(tries(), key -> {
            Mutex ofA = a().newMutex(key);
            Mutex ofB = b().newMutex(key);
            try {
                Lease lease = acquired(ofA.tryLock(), "tryLock");
                assertThat(lease.key()).isEqualTo(key);
                LockInfo info = ofB.holder().orElseThrow(() -> new AssertionError("holder() is empty while held"));
                assertThat(info.key()).isEqualTo(key);
                assertThat(info.owner()).isEqualTo(ownerA());
                assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
                assertThat(ofB.tryLock()).as("another owner's tryLock while held").isEmpty();

                ofA.unlock();
                assertThat(ofB.holder()).as("holder() after unlock").isEmpty();
                assertThat(lease.isValid()).as("lease after unlock").isFalse();
                try (Lease next = acquired(ofB.tryLock(), "another owner's tryLock after the unlock")) {
                    assertThat(next.fencingToken()).isGreaterThan(lease.fencingToken());
                }
                assertThat(ofA.holder()).as("holder() after the second owner's close").isEmpty();
            } finally {
                releaseQuietly(ofA, ofB);
            }
        });
    }

    // ------------------------------------------------------------------------------------------
    // 2. Neighbours
    // ------------------------------------------------------------------------------------------

    @Test
    @DisplayName("locking and unlocking a neighbour key (escaping, separators, prefixes, case, normal forms) never disturbs a hold")
    void lockingOneKeyNeverDisturbsTheHoldOfAnother() {
        ForAll.inputs(InputGenerators::neighbourKeys).describedBy(InputGenerators::printable)
                .shrunkBy(pair -> ForAll.shorter(pair.get(0)).stream()
                        .filter(k -> !k.equals(pair.get(1))).map(k -> List.of(k, pair.get(1))).toList())
                .check(tries(), keys -> {
                    String held = keys.get(0);
                    String other = keys.get(1);
                    Mutex holder = a().newMutex(held);
                    Mutex neighbour = b().newMutex(other);
                    try {
                        Lease lease = acquired(holder.tryLock(), "tryLock of " + printable(held));
                        try (Lease next = acquired(neighbour.tryLock(), "tryLock of the neighbour " + printable(other))) {
                            assertThat(next.key()).isEqualTo(other);
                            assertThat(neighbour.holder()).get().extracting(LockInfo::owner).isEqualTo(ownerB());
                            assertHeldBy(held, ownerA(), lease.fencingToken());
                        }
                        assertThat(neighbour.holder()).as("the neighbour after its unlock").isEmpty();
                        assertHeldBy(held, ownerA(), lease.fencingToken());

                        // the neighbour's owner can neither release nor take the held key
                        b().newMutex(held).unlock();
                        assertThat(b().newMutex(held).tryLock()).as("the neighbour's owner's tryLock of the held key").isEmpty();
                        assertHeldBy(held, ownerA(), lease.fencingToken());
                    } finally {
                        releaseQuietly(holder, neighbour);
                    }
                    assertThat(holder.holder()).as("holder() after unlock").isEmpty();
                });
    }

    // ------------------------------------------------------------------------------------------
    // 3. Invalid arguments
    // ------------------------------------------------------------------------------------------

    @Test
    @DisplayName("keys of 513 characters and more: IllegalArgumentException naming key, the rule and the length; no hold on the first 512")
    void keysTooLongAreRefusedAndLeaveNothingBehind() {
        ForAll.strings(InputGenerators::tooLongKey).check(tries(), key -> {
            Dlm dlm = a();
            for (ThrowingCallable refused : List.<ThrowingCallable>of(
                    () -> dlm.newMutex(key),
                    () -> dlm.newMutex(key, TTL),
                    () -> MutexOptions.builder(key))) {
                assertThatThrownBy(refused).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("key").hasMessageContaining("1 to 512")
                        .hasMessageContaining("was " + length(key));
            }
            String longestPrefix = key.substring(0, key.offsetByCodePoints(0, 512));
            assertThat(b().newMutex(longestPrefix).holder()).as("a hold on the first 512 characters").isEmpty();
        });
    }

    @Test
    @DisplayName("empty key: IllegalArgumentException; null key: NullPointerException; both name key")
    void emptyAndNullKeysAreRefused() {
        Dlm dlm = a();
        assertThatThrownBy(() -> dlm.newMutex("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key").hasMessageContaining("1 to 512");
        assertThatThrownBy(() -> dlm.newMutex("", TTL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key");
        assertThatThrownBy(() -> dlm.newMutex((String) null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("key");
        assertThatThrownBy(() -> dlm.newMutex(null, TTL)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("key");
        assertThatThrownBy(() -> MutexOptions.builder(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("key");
    }

    record BadOwners(String key, String blank, String tooLong) {
        @Override
        public String toString() {
            return "key " + printable(key) + ", blank owner " + printable(blank) + ", long owner " + printable(tooLong);
        }
    }

    @Test
    @DisplayName("empty, blank and 257-character owners: IllegalArgumentException naming owner (or defaultOwner) and the rule")
    void badOwnersAreRefusedNamingTheOwnerAndTheRule() {
        ForAll.inputs(r -> new BadOwners(InputGenerators.validKey(r), InputGenerators.blankOwner(r),
                InputGenerators.tooLongOwner(r))).check(tries(), in -> {
            assertThatThrownBy(() -> MutexOptions.builder(in.key()).owner(in.blank()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("blank");
            assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(in.blank()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("blank");
            for (String bad : List.of("", in.tooLong())) {
                assertThatThrownBy(() -> MutexOptions.builder(in.key()).owner(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("256");
                assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(bad))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("256");
            }
            assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("defaultOwner");
            assertThat(b().newMutex(in.key()).holder()).as("a hold after refused owners").isEmpty();
        });
    }

    record BadDurations(String key, Duration notPositive, Duration negative) {
        @Override
        public String toString() {
            return "key " + printable(key) + ", not positive " + notPositive + ", negative " + negative;
        }
    }

    @Test
    @DisplayName("zero, negative or over-a-year ttl; zero or negative waitingInterval, operationTimeout, negative maxWait, and nulls: refused naming the argument, no hold left")
    void badTtlsAndWaitsAreRefusedAndLeaveNothingBehind() {
        ForAll.inputs(r -> new BadDurations(InputGenerators.validKey(r), InputGenerators.notPositive(r),
                InputGenerators.negative(r))).check(tries(), in -> {
            Dlm dlm = a();
            Duration bad = in.notPositive();
            assertThatThrownBy(() -> dlm.newMutex(in.key(), bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
            assertThatThrownBy(() -> MutexOptions.builder(in.key()).ttl(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
            assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultTtl").hasMessageContaining("positive");
            assertThatThrownBy(() -> DlmOptions.builder().waitingInterval(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("waitingInterval");
            assertThatThrownBy(() -> DlmOptions.builder().operationTimeout(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operationTimeout");
            assertThatThrownBy(() -> dlm.newMutex(in.key(), null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("ttl");
            assertThatThrownBy(() -> dlm.newMutex(in.key(), Duration.ofDays(365).plusNanos(1 + in.key().length())))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl must be at most 365 days");

            Mutex mutex = dlm.newMutex(in.key());
            try {
                assertThatThrownBy(() -> mutex.lock(in.negative()))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWait")
                        .hasMessageContaining("negative");
                assertThatThrownBy(() -> mutex.lock(null))
                        .isInstanceOf(NullPointerException.class).hasMessageContaining("maxWait");
                assertThat(b().newMutex(in.key()).holder()).as("a hold after refused arguments").isEmpty();
            } finally {
                releaseQuietly(mutex);
            }
        });
    }

    record GoodDurations(String key, Duration ttl, Duration maxWait) {
        @Override
        public String toString() {
            return "key " + printable(key) + ", ttl " + ttl + ", maxWait " + maxWait;
        }
    }

    @Test
    @DisplayName("any positive ttl (1 ns, or the shortest grantable, to a year) and any maxWait >= 0 (up to the largest Duration) lock a free key at once; unlock leaves no hold")
    void anyPositiveTtlAndNonNegativeWaitLockAFreeKey() {
        ForAll.inputs(r -> new GoodDurations(InputGenerators.validKey(r), grantable(InputGenerators.validTtl(r)),
                InputGenerators.maxWait(r))).check(tries(), in -> {
            Mutex mutex = a().newMutex(in.key(), in.ttl());
            try {
                Lease lease = mutex.lock(in.maxWait());
                assertThat(lease.fencingToken()).isPositive();
                assertThat(mutex.ttl()).isEqualTo(in.ttl());
                mutex.unlock();
                assertThat(b().newMutex(in.key()).holder()).as("a hold after unlock").isEmpty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            } finally {
                releaseQuietly(mutex);
            }
        });
    }

    /**
     * Unpaired surrogates are not Unicode, but Java strings hold them and the argument rules count
     * each as one character. A key or owner with one must be refused (IllegalArgumentException
     * naming it) or be a lock, or holder, of its own: never the same as its lookalike with '?' or
     * U+FFFD, which is what UTF-8 encoders write in its place.
     */
    @Test
    @DisplayName("keys and owners with unpaired surrogates are refused, or are never the same as their '?' or U+FFFD lookalikes")
    void unpairedSurrogatesAreRefusedOrKeptApart() {
        ForAll.inputs(InputGenerators::unpairedSurrogateAndLookalikes).describedBy(InputGenerators::printable)
                .check(tries(), keys -> {
                    String key = keys.get(0);
                    Mutex ofA;
                    try {
                        ofA = a().newMutex(key);
                    } catch (IllegalArgumentException refused) {
                        assertThat(refused).hasMessageContaining("key");
                        return;
                    }
                    List<Mutex> lookalikes = keys.subList(1, keys.size()).stream().map(k -> b().newMutex(k)).toList();
                    try {
                        Lease lease = acquired(ofA.tryLock(), "tryLock");
                        for (Mutex lookalike : lookalikes) {
                            acquired(lookalike.tryLock(), "tryLock of the lookalike " + printable(lookalike.key()));
                        }
                        assertHeldBy(key, ownerA(), lease.fencingToken());
                    } finally {
                        releaseQuietly(ofA);
                        lookalikes.forEach(InputPropertySuite::releaseQuietly);
                    }

                    String ownKey = "surrogate-owner-" + run;
                    Mutex ofOwner;
                    try {
                        ofOwner = a().newMutex(MutexOptions.builder(ownKey).owner(key).build());
                    } catch (IllegalArgumentException refused) {
                        assertThat(refused).hasMessageContaining("owner");
                        return;
                    }
                    List<Mutex> ofLookalikeOwners = keys.subList(1, keys.size()).stream()
                            .map(owner -> b().newMutex(MutexOptions.builder(ownKey).owner(owner).build())).toList();
                    try {
                        acquired(ofOwner.tryLock(), "tryLock of the owner " + printable(key));
                        for (Mutex other : ofLookalikeOwners) {
                            assertThat(other.tryLock()).as("tryLock by the lookalike owner %s", printable(other.owner())).isEmpty();
                        }
                    } finally {
                        releaseQuietly(ofOwner);
                        ofLookalikeOwners.forEach(InputPropertySuite::releaseQuietly);
                    }
                });
    }

    private Duration grantable(Duration ttl) {
        Duration shortest = shortestGrantableTtl();
        return ttl.compareTo(shortest) < 0 ? shortest.plus(ttl) : ttl;
    }

    // ------------------------------------------------------------------------------------------
    // 4. Owners
    // ------------------------------------------------------------------------------------------

    record KeyAndOwner(String key, String owner) {
        @Override
        public String toString() {
            return "key " + printable(key) + ", owner " + printable(owner);
        }
    }

    @Test
    @DisplayName("any owner of 1 to 256 characters holds; the same owner relocks through another Dlm with the same token; one unlock ends it")
    void anyValidOwnerHoldsAndRelocksWithTheSameToken() {
        ForAll.inputs(r -> new KeyAndOwner(InputGenerators.validKey(r), InputGenerators.validOwner(r)))
                .check(tries(), in -> {
                    Mutex first = a().newMutex(MutexOptions.builder(in.key()).owner(in.owner()).build());
                    Mutex sameOwner = b().newMutex(MutexOptions.builder(in.key()).owner(in.owner()).build());
                    Mutex other = b().newMutex(in.key());
                    try {
                        Lease lease = acquired(first.tryLock(), "tryLock");
                        assertThat(lease.owner()).isEqualTo(in.owner());
                        assertThat(other.holder()).get().extracting(LockInfo::owner).isEqualTo(in.owner());

                        Lease relocked = acquired(sameOwner.tryLock(), "the same owner's tryLock through another Dlm");
                        assertThat(relocked.fencingToken()).as("token of a relock").isEqualTo(lease.fencingToken());
                        assertThat(other.tryLock()).as("another owner's tryLock").isEmpty();

                        sameOwner.unlock();   // relocks are not counted: one unlock ends the hold
                        assertThat(other.holder()).as("holder() after one unlock").isEmpty();
                    } finally {
                        releaseQuietly(first, other);
                    }
                });
    }

    record KeyAndOwners(String key, List<String> owners) {
        @Override
        public String toString() {
            return "key " + printable(key) + ", owners " + printable(owners);
        }
    }

    @Test
    @DisplayName("owners that differ by a character, a separator, case or normal form are different holders")
    void differentOwnersAreDifferentHolders() {
        ForAll.inputs(r -> new KeyAndOwners(InputGenerators.validKey(r), InputGenerators.differentOwners(r)))
                .check(tries(), in -> {
                    String owner = in.owners().get(0);
                    String otherOwner = in.owners().get(1);
                    Mutex one = a().newMutex(MutexOptions.builder(in.key()).owner(owner).build());
                    Mutex two = a().newMutex(MutexOptions.builder(in.key()).owner(otherOwner).build());
                    try {
                        Lease lease = acquired(one.tryLock(), "tryLock");
                        assertThat(two.tryLock()).as("the other owner's tryLock").isEmpty();
                        two.unlock();
                        LockInfo info = two.holder().orElseThrow(() -> new AssertionError("the other owner's unlock released the hold"));
                        assertThat(info.owner()).isEqualTo(owner);
                        assertThat(info.fencingToken()).isEqualTo(lease.fencingToken());
                    } finally {
                        releaseQuietly(one, two);
                    }
                });
    }
}
