package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Dlm in the test's hands: its one lease is free to take, or held by "someone else" for good (then
 * lock() waits until interrupted or its maxWait ends); its close can be made slow with {@link #close}.
 */
final class FakeDlm implements Dlm {

    final Gate close = new Gate();
    final AtomicInteger closes = new AtomicInteger();
    final FakeLease lease;
    private final boolean heldByAnother;

    private FakeDlm(FakeLease lease, boolean heldByAnother) {
        this.lease = lease;
        this.heldByAnother = heldByAnother;
    }

    /** The lock is free: the first tryLock gets {@code lease}. */
    static FakeDlm free(FakeLease lease) {
        return new FakeDlm(lease, false);
    }

    /** The lock is held by "someone", token 5, and never released. */
    static FakeDlm heldByAnother() {
        return new FakeDlm(null, true);
    }

    @Override
    public Mutex newMutex(String key) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Mutex newMutex(String key, Duration ttl) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Mutex newMutex(MutexOptions options) {
        return new FakeMutex(options);
    }

    @Override
    public Duration ping() {
        return Duration.ZERO;
    }

    @Override
    public void close() {
        closes.incrementAndGet();
        close.pass();
    }

    private final class FakeMutex implements Mutex {
        private final MutexOptions options;

        FakeMutex(MutexOptions options) {
            this.options = options;
        }

        @Override
        public String key() {
            return options.key();
        }

        @Override
        public String owner() {
            return options.owner();
        }

        @Override
        public Duration ttl() {
            return options.ttl();
        }

        @Override
        public Lease lock() throws InterruptedException {
            if (!heldByAnother) {
                return lease;
            }
            new CountDownLatch(1).await();
            throw new AssertionError("unreachable");
        }

        @Override
        public Lease lock(Duration maxWait) throws InterruptedException {
            if (!heldByAnother) {
                return lease;
            }
            if (!new CountDownLatch(1).await(maxWait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new LockTimeoutException("not acquired within " + maxWait);
            }
            throw new AssertionError("unreachable");
        }

        @Override
        public Optional<Lease> tryLock() {
            return heldByAnother ? Optional.empty() : Optional.of(lease);
        }

        @Override
        public void unlock() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<LockInfo> holder() {
            return heldByAnother
                    ? Optional.of(new LockInfo(options.key(), "someone", 5, Instant.now().plusSeconds(20)))
                    : Optional.empty();
        }
    }
}
