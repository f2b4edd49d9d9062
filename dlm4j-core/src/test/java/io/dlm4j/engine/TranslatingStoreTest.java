package io.dlm4j.engine;

import io.dlm4j.LockBackendException;
import io.dlm4j.LockException;
import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.HoldToRefresh;
import io.dlm4j.spi.LockStore;
import io.dlm4j.spi.RefreshResult;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How {@link TranslatingStore} names each operation and what a failure becomes, open, closed and while closing. */
class TranslatingStoreTest {

    private static final Duration TTL = Duration.ofSeconds(5);
    private static final HoldToRefresh HOLD = new HoldToRefresh("k", "o", TTL);

    private final RuntimeException failure = new IllegalStateException("boom");
    private final FailingStore failing = new FailingStore(failure);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final TranslatingStore store = new TranslatingStore(failing, closed::get);

    /** Every operation that reaches the client library, by the name its failures carry. */
    private static Map<String, Consumer<TranslatingStore>> operations() {
        Map<String, Consumer<TranslatingStore>> operations = new LinkedHashMap<>();
        operations.put("acquire of 'k'", s -> s.acquire("k", "o", TTL));
        operations.put("acquire of 'k' (marked)", s -> s.acquire("k", "o", TTL, "a1"));
        operations.put("acquire of 'k' (with its undo)", s -> s.acquire("k", "o", TTL, "a1", e -> { }));
        operations.put("undo of the acquire of 'k'", s -> s.undoAcquire("k", "o", "a1"));
        operations.put("undo of the acquire of 'k' (by release)", s -> s.releaseUndoingAcquire("k", "o"));
        operations.put("refresh of 'k'", s -> s.refresh("k", "o", TTL));
        operations.put("refresh of 'k' (refreshAll)", s -> s.refreshAll(List.of(HOLD)));
        operations.put("refresh of 2 leases (refreshAll)", s -> s.refreshAll(List.of(HOLD, new HoldToRefresh("j", "o", TTL))));
        operations.put("refresh of 'k' (refreshEach)", s -> s.refreshEach(List.of(HOLD)));
        operations.put("refresh of 2 leases", s -> s.refreshEach(List.of(HOLD, new HoldToRefresh("j", "o", TTL))));
        operations.put("release of 'k'", s -> s.release("k", "o"));
        operations.put("read of 'k'", s -> s.read("k"));
        operations.put("subscription to 'k'", s -> s.onRelease("k", () -> { }));
        operations.put("ping", TranslatingStore::ping);
        operations.put("housekeeping", TranslatingStore::housekeeping);
        operations.put("close", TranslatingStore::close);
        return operations;
    }

    /** "acquire of 'k' (marked)" names the operation "acquire of 'k'": the part in brackets only tells the tests apart. */
    private static String operation(String name) {
        int bracket = name.indexOf(" (");
        return bracket < 0 ? name : name.substring(0, bracket);
    }

    @TestFactory
    @DisplayName("a failure of each operation is a LockBackendException naming the store and the operation, keeping the cause")
    Stream<DynamicTest> failureNamesTheOperation() {
        return operations().entrySet().stream().map(op -> DynamicTest.dynamicTest(op.getKey(), () ->
                assertThatThrownBy(() -> op.getValue().accept(store))
                        .isExactlyInstanceOf(LockBackendException.class)
                        .hasMessage("failing store: " + operation(op.getKey()) + " failed: boom")
                        .hasCause(failure)));
    }

    @TestFactory
    @DisplayName("a failure of each operation once the Dlm is closed is an IllegalStateException: the close is the news")
    Stream<DynamicTest> failureAfterCloseIsTheClose() {
        closed.set(true);
        return operations().entrySet().stream().map(op -> DynamicTest.dynamicTest(op.getKey(), () ->
                assertThatThrownBy(() -> op.getValue().accept(store))
                        .isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessage("this Dlm was closed while the " + operation(op.getKey())
                                + " was in progress (failing store)")
                        .hasCause(failure)));
    }

    @TestFactory
    @DisplayName("while closing, a failure of each operation is a backend failure, though the Dlm is closed")
    Stream<DynamicTest> failureWhileClosingIsTheBackend() {
        closed.set(true);
        return operations().entrySet().stream().map(op -> DynamicTest.dynamicTest(op.getKey(), () ->
                assertThatThrownBy(() -> op.getValue().accept(store.whileClosing()))
                        .isExactlyInstanceOf(LockBackendException.class)
                        .hasMessage("failing store: " + operation(op.getKey()) + " failed: boom")
                        .hasCause(failure)));
    }

    @Test
    @DisplayName("a LockException of the store's own passes unchanged, also while closing")
    void lockExceptionPassesUnchanged() {
        LockException own = new LockException("the store's own words");
        TranslatingStore store = new TranslatingStore(new FailingStore(own), closed::get);
        assertThatThrownBy(() -> store.refresh("k", "o", TTL)).isSameAs(own);
        closed.set(true);
        assertThatThrownBy(() -> store.whileClosing().release("k", "o")).isSameAs(own);
    }

    @Test
    @DisplayName("a LockException once the Dlm is closed is still the news of the close")
    void lockExceptionAfterCloseIsTheClose() {
        LockException own = new LockException("the store's own words");
        TranslatingStore store = new TranslatingStore(new FailingStore(own), closed::get);
        closed.set(true);
        assertThatThrownBy(() -> store.read("k"))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("this Dlm was closed while the read of 'k' was in progress (failing store)")
                .hasCause(own);
    }

    @Test
    @DisplayName("an acquire's undo sees the client library's failure, and a close during the undo makes the failure the close's")
    void undoRunsBeforeTheFailureIsTranslated() {
        List<RuntimeException> seen = new ArrayList<>();
        assertThatThrownBy(() -> store.acquire("k", "o", TTL, "a1", e -> {
            seen.add(e);
            closed.set(true); // the close begins while the attempt undoes
        }))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("this Dlm was closed while the acquire of 'k' was in progress (failing store)")
                .hasCause(failure);
        assertThat(seen).containsExactly(failure);
    }

    @Test
    @DisplayName("a grant without a fencing token fails the acquire, with no undo: the store did answer")
    void grantWithoutAFencingTokenFailsTheAcquire() {
        StoredHold tokenless = new StoredHold("o", 0, TTL);
        TranslatingStore store = new TranslatingStore(new GrantingStore(Acquisition.acquired(tokenless)), closed::get);
        List<RuntimeException> undone = new ArrayList<>();
        assertThatThrownBy(() -> store.acquire("k", "o", TTL, "a1", undone::add))
                .isExactlyInstanceOf(LockBackendException.class)
                .hasMessage("granting store: acquire of 'k' failed: the store granted a hold without a fencing token ("
                        + tokenless + ")");
        assertThat(undone).isEmpty();
        closed.set(true);
        assertThatThrownBy(() -> store.acquire("k", "o", TTL))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("this Dlm was closed while the acquire of 'k' was in progress (granting store)");
    }

    @Test
    @DisplayName("another holder's hold passes as the store answered it, whatever its token")
    void holdOfAnotherPasses() {
        Acquisition other = Acquisition.heldBy(new StoredHold("p", 0, TTL));
        TranslatingStore store = new TranslatingStore(new GrantingStore(other), closed::get);
        assertThat(store.acquire("k", "o", TTL, "a1", e -> { })).isEqualTo(other);
    }

    @Test
    @DisplayName("the store's own properties pass through untouched")
    void propertiesPassThrough() {
        assertThat(store.describe()).isEqualTo("failing store");
        assertThat(store.refreshBatchSize()).isEqualTo(7);
        assertThat(store.housekeepingInterval()).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    @DisplayName("through a Dlm: a failed read of holder() names the store and the read")
    void throughADlm() throws InterruptedException {
        try (EngineFixture fixture = new EngineFixture()) {
            fixture.store.next("read", ScriptedStore.fail(new IllegalStateException("down")));
            StoreBackedDlm dlm = fixture.dlm();
            assertThatThrownBy(() -> dlm.newMutex(EngineFixture.KEY).holder())
                    .isExactlyInstanceOf(LockBackendException.class)
                    .hasMessage("scripted store: read of 'k' failed: down");
        }
    }

    /** A store whose every operation fails with one exception. */
    private static final class FailingStore implements LockStore {
        private final RuntimeException failure;

        FailingStore(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public Acquisition acquire(String key, String owner, Duration ttl) {
            throw failure;
        }

        @Override
        public Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
            throw failure;
        }

        @Override
        public Undo undoAcquire(String key, String owner, String attempt) {
            throw failure;
        }

        @Override
        public Optional<Duration> refresh(String key, String owner, Duration ttl) {
            throw failure;
        }

        @Override
        public List<Optional<Duration>> refreshAll(List<HoldToRefresh> holds) {
            throw failure;
        }

        @Override
        public List<RefreshResult> refreshEach(List<HoldToRefresh> holds) {
            throw failure;
        }

        @Override
        public int refreshBatchSize() {
            return 7;
        }

        @Override
        public boolean release(String key, String owner) {
            throw failure;
        }

        @Override
        public Optional<StoredHold> read(String key) {
            throw failure;
        }

        @Override
        public Subscription onRelease(String key, Runnable wake) {
            throw failure;
        }

        @Override
        public Duration ping() {
            throw failure;
        }

        @Override
        public String describe() {
            return "failing store";
        }

        @Override
        public void housekeeping() {
            throw failure;
        }

        @Override
        public Duration housekeepingInterval() {
            return Duration.ofSeconds(9);
        }

        @Override
        public void close() {
            throw failure;
        }
    }

    /** A store whose acquire answers one reply; nothing else is called. */
    private static final class GrantingStore implements LockStore {
        private final Acquisition reply;

        GrantingStore(Acquisition reply) {
            this.reply = reply;
        }

        @Override
        public Acquisition acquire(String key, String owner, Duration ttl) {
            return reply;
        }

        @Override
        public Optional<Duration> refresh(String key, String owner, Duration ttl) {
            throw new AssertionError("not called");
        }

        @Override
        public boolean release(String key, String owner) {
            throw new AssertionError("not called");
        }

        @Override
        public Optional<StoredHold> read(String key) {
            throw new AssertionError("not called");
        }

        @Override
        public Duration ping() {
            throw new AssertionError("not called");
        }

        @Override
        public String describe() {
            return "granting store";
        }

        @Override
        public void close() {
        }
    }
}
