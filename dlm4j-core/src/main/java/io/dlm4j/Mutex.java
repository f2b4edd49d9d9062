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
 * <p>Thread-safe: a Mutex keeps no state of its own beyond its key, owner and ttl. Within one Dlm
 * the acquires and releases of one key and owner run one at a time.
 *
 * <p>Every method that calls the backend throws {@link IllegalStateException} once its
 * {@link Dlm} is closed, and a call in progress when it closes ends with it;
 * {@link LockBackendException} (naming the backend and its address) when the backend fails or
 * does not answer within the operation timeout. {@link #key()}, {@link #owner()} and
 * {@link #ttl()} answer also after the close.
 *
 * <p>A try that fails without an answer (a timeout, an interrupt, a closed client) may still have
 * been applied by the backend. The engine then undoes what that try created, and only that: a
 * hold the owner had before the try is never ended by it.
 *
 * <p>A lease's time is counted from before its request, so an answer that arrives after the time
 * granted is over gives a lease that is invalid from the start ({@link Lease#isValid()} is false,
 * and a warning says that the ttl is short for the backend's latency). A lease may also arrive
 * with little time left: check {@link Lease#isValid()}, or pass {@link Lease#fencingToken()} to
 * what you guard, before acting on it.
 */
public interface Mutex {

    /** The lock's name: 1 to 512 characters. */
    String key();

    /** Who holds the lock through this mutex: the owner given, or the Dlm's default owner. */
    String owner();

    /** How long a hold lasts unless refreshed: the ttl given, or the Dlm's default ttl. */
    Duration ttl();

    /**
     * Waits as long as it takes to acquire the lock.
     *
     * @throws InterruptedException  if the thread is interrupted while waiting (or was already);
     *                               no hold is left behind, and the interrupt flag is cleared
     * @throws LockBackendException  if the backend fails while waiting
     * @throws IllegalStateException if the Dlm is closed, before or while waiting
     */
    Lease lock() throws InterruptedException;

    /**
     * Waits at most {@code maxWait} to acquire the lock; {@link Duration#ZERO} makes one try.
     *
     * @throws LockTimeoutException  if the lock was not acquired within {@code maxWait}
     * @throws InterruptedException  if the thread is interrupted while waiting (or was already);
     *                               no hold is left behind, and the interrupt flag is cleared
     * @throws NullPointerException     if {@code maxWait} is null
     * @throws IllegalArgumentException if {@code maxWait} is negative
     * @throws LockBackendException  if the backend fails while waiting
     * @throws IllegalStateException if the Dlm is closed, before or while waiting
     */
    Lease lock(Duration maxWait) throws InterruptedException;

    /**
     * One try: the lease, or empty if another owner holds the lock. Not interruptible: an
     * interrupt that makes the client library give up ends it with {@link LockBackendException},
     * leaves no hold behind and keeps the interrupt flag set.
     *
     * @throws LockBackendException  if the backend fails
     * @throws IllegalStateException if the Dlm is closed
     */
    Optional<Lease> tryLock();

    /**
     * Releases the lock if this owner holds it; otherwise does nothing. Every lease of this key and
     * owner in this Dlm ends with it (their {@code onLost} never runs), whichever Mutex made them.
     *
     * @throws LockBackendException  if the backend fails; the leases have ended all the same
     * @throws IllegalStateException if the Dlm is closed
     */
    void unlock();

    /**
     * Who holds the lock now, if anyone.
     *
     * @throws LockBackendException  if the backend fails
     * @throws IllegalStateException if the Dlm is closed
     */
    Optional<LockInfo> holder();
}
