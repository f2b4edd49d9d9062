package io.dlm4j;

import java.time.Duration;
import java.util.Optional;

/**
 * A handle on one named lock: a key, the owner that holds it and how long a hold lasts.
 *
 * <p>Mutexes with the same key and owner are the same holder, in any process: they can lock,
 * refresh and unlock each other's hold. Locking again while the owner holds the lock succeeds at
 * once, keeps the fencing token and extends the expiry; one unlock releases it.
 *
 * <p>Thread-safe: a Mutex keeps no state of its own beyond its key, owner and ttl.
 */
public interface Mutex {

    String key();

    String owner();

    Duration ttl();

    /**
     * Waits as long as it takes to acquire the lock.
     *
     * @throws InterruptedException if the thread is interrupted while waiting (or was already);
     *                              no hold is left behind
     * @throws LockBackendException if the backend fails while waiting
     */
    Lease lock() throws InterruptedException;

    /**
     * Waits at most {@code maxWait} to acquire the lock; {@link Duration#ZERO} makes one try.
     *
     * @throws LockTimeoutException if the lock was not acquired within {@code maxWait}
     * @throws InterruptedException if the thread is interrupted while waiting (or was already)
     */
    Lease lock(Duration maxWait) throws InterruptedException;

    /** One try: the lease, or empty if another owner holds the lock. */
    Optional<Lease> tryLock();

    /** Releases the lock if this owner holds it; otherwise does nothing. */
    void unlock();

    /** Who holds the lock now, if anyone. */
    Optional<LockInfo> holder();
}
