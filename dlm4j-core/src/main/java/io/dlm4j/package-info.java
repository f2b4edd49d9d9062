/**
 * The dlm4j API: distributed locks on a store the application already runs. This page is the
 * contract; the page {@code docs/CONTRACT.md} of the repository says the same for readers of the
 * source tree.
 *
 * <h2>Concepts</h2>
 * <ul>
 *   <li><b>{@link io.dlm4j.Dlm}</b> (distributed lock manager): one per application and backend,
 *       created on a backend's factory ({@code MongoDlm.create}, {@code RedisDlm.create}, ...) or
 *       by {@link io.dlm4j.Dlms#fromUri(String, io.dlm4j.DlmOptions)}; it holds the defaults
 *       ({@link io.dlm4j.DlmOptions}).</li>
 *   <li><b>{@link io.dlm4j.Mutex}</b>: a handle on one named lock: a {@code key} (the lock's name,
 *       1 to 512 characters), an {@code owner} (who holds it, 1 to 256 characters and not blank;
 *       by default the host name) and a {@code ttl} (how long a hold lasts unless refreshed;
 *       positive, at most 365 days).</li>
 *   <li><b>{@link io.dlm4j.Lease}</b>: one hold, with its fencing token and its expiry.</li>
 * </ul>
 *
 * <h2>The owner rule</h2>
 * Mutexes with the same key and the same owner are the same holder, in any process: they lock,
 * refresh and unlock each other's hold. Locking again while the owner holds the lock succeeds at
 * once, keeps the fencing token and extends the expiry; it is not counted, so one unlock releases
 * it. Neither a relock nor a refresh ever shortens the hold: the store keeps the later of the
 * current and the requested expiry, and every lease of the hold reports what the store has. Within
 * one Dlm, the leases of one key and owner are one hold: closing any of them, or
 * {@link io.dlm4j.Mutex#unlock()}, ends them all, and their {@code onLost} callbacks never run.
 *
 * <p>Default owners by entry point: the library's default owner is the host name (one holder per
 * machine or pod), so two processes on one host share a hold unless each is given an owner of its
 * own ({@link io.dlm4j.DlmOptions#processOwner()}). The {@code dlm4j} command's default owner is
 * the host name plus the process id, so two {@code dlm4j run} on one host exclude each other as
 * {@code flock(1)} does.
 *
 * <h2>Expiry</h2>
 * A hold ends at unlock, or when its ttl passes without a refresh, whichever is first. Expiry is
 * judged by the backend's clock, never by agreement between the clients' clocks: a client whose
 * clock is off neither steals a live lock nor waits for an expired one.
 * {@link io.dlm4j.Lease#expiresAt()} is a conservative local estimate: the time taken before the
 * request was sent, plus the ttl, so a reply that arrives after the time granted gives a lease that
 * is invalid from the start. Leases that expire without being closed are forgotten: a Dlm's memory
 * does not grow with holds that ended by expiry.
 *
 * <h2>Fencing</h2>
 * Every new acquisition (not a relock or a refresh) gets a token strictly greater than every token
 * issued before for the same key, by any client, also after expiry, release, cleanup of old records
 * and client restarts. A relock keeps the hold's token on every backend (on Redlock, the token that
 * a quorum of masters recorded). A resource guarded by the lock rejects a write that carries a
 * token lower than one it has seen; that is what keeps it safe from a holder that was paused past
 * its expiry.
 *
 * <h2>Waiting</h2>
 * {@link io.dlm4j.Mutex#lock()} waits as long as it takes, {@link io.dlm4j.Mutex#lock(java.time.Duration)}
 * at most the given time ({@link io.dlm4j.LockTimeoutException} after it; zero makes one try), and
 * {@link io.dlm4j.Mutex#tryLock()} makes one try. A waiter tries again as soon as the backend says
 * the lock was released, where the backend can say so (pub/sub, watch, notify), at the holder's
 * expiry, and otherwise at most {@link io.dlm4j.DlmOptions#waitingInterval()} after its last try.
 * An interrupt ends the wait with {@link java.lang.InterruptedException} and leaves no hold behind;
 * a thread whose interrupt flag is already set gets it at once, as with
 * {@code java.util.concurrent} locks. A try that fails without an answer (a timeout, an interrupt,
 * a closed client) may still have been applied by the backend: the engine then undoes what that try
 * created, and only that, so a hold the owner had before the try is never ended by it.
 *
 * <h2>Refreshing and loss</h2>
 * {@link io.dlm4j.Lease#refresh()} extends the hold by its ttl. With auto-refresh
 * ({@link io.dlm4j.DlmOptions#autoRefresh()}, or per mutex in {@link io.dlm4j.MutexOptions}), a lease
 * refreshes itself at about a third of its ttl until it is closed or lost. A lease is lost when a
 * refresh finds the lock gone or taken over, or when an auto-refreshed lease reaches its local
 * expiry without a successful refresh (a timer at the expiry marks it lost, not the end of a late
 * refresh round); then its {@link io.dlm4j.Lease#onLost(Runnable)} callbacks run once.
 *
 * <h2>Threads and callbacks</h2>
 * {@code Dlm}, {@code Mutex} and {@code Lease} are thread-safe. A Dlm runs one scheduler thread
 * (expiry timers, the timing of auto-refresh, backend housekeeping), a refresh thread for the
 * auto-refresh store calls, and a thread that runs {@code onLost} callbacks one at a time, unless
 * {@link io.dlm4j.DlmOptions#callbackExecutor()} names another executor. All are daemon threads; the
 * last two exist only while they have work. A loss found in the background runs its callbacks on
 * the callback executor, never on the refresh thread; a loss found by {@code refresh()} runs them
 * on the calling thread before it returns false; a lease already lost runs a new callback at once.
 *
 * <h2>Closing</h2>
 * {@link io.dlm4j.Dlm#close()} refuses new calls, ends the calls waiting in {@code lock()}, lets
 * the calls in progress end, releases every hold still held through the Dlm, stops its threads and
 * closes what it created itself (never a client the user passed in). Every method of a closed Dlm
 * and of its mutexes, except {@code close()}, throws {@link java.lang.IllegalStateException}; a call
 * in progress when the Dlm closes ends with it too, never with a backend failure caused by the
 * shutdown. A lease of a closed Dlm is not valid, its {@code refresh()} returns false and its
 * {@code close()} does nothing.
 *
 * <h2>Errors</h2>
 * <ul>
 *   <li>A null argument is a {@link java.lang.NullPointerException}, a bad value an
 *       {@link java.lang.IllegalArgumentException}; the message names the argument and the rule.
 *       Keys and owners must also be well-formed UTF-16 (no unpaired surrogate), because stores
 *       keep them as UTF-8.</li>
 *   <li>A backend that fails, is down or hung gives a {@link io.dlm4j.LockBackendException} that
 *       names the backend and its address and keeps the cause. No call hangs: each backend
 *       operation has a deadline ({@link io.dlm4j.DlmOptions#operationTimeout()}, 10 s by
 *       default). A backend failure while {@code lock()} waits ends the wait with it.</li>
 *   <li>No credential from a URI or a client (a password, key material) appears in any message,
 *       log line or {@code toString()}; addresses show {@code user:***@}. Fencing tokens are not
 *       credentials and are shown.</li>
 * </ul>
 */
package io.dlm4j;
