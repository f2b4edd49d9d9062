package io.dlm4j.memory;

import io.dlm4j.spi.Acquisition;
import io.dlm4j.spi.StoredHold;
import io.dlm4j.spi.Subscription;
import io.dlm4j.spi.WakeUps;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The JVM-wide table that every {@link InMemoryDlm} shares, as processes share a server. Its clock
 * is {@link System#nanoTime()}, so no Dlm's {@code DlmOptions.clock} can move its expiries.
 */
final class LockTable {

    static final LockTable SHARED = new LockTable();

    /** {@code createdBy}: the attempt that created the hold, until the owner touches it again; null after. */
    private record Hold(String owner, long token, long expiresAtNanos, String createdBy) {
        boolean liveAt(long now) {
            return expiresAtNanos - now > 0;
        }

        /** Touched again by its owner: the later of both expiries, and no attempt can undo it any more. */
        Hold extendedTo(long candidateNanos) {
            return new Hold(owner, token, candidateNanos - expiresAtNanos > 0 ? candidateNanos : expiresAtNanos, null);
        }

        StoredHold stored(long now) {
            return new StoredHold(owner, token, Duration.ofNanos(expiresAtNanos - now));
        }
    }

    private final Map<String, Hold> holds = new HashMap<>();
    // One counter per key ever locked, kept when holds go, so that tokens never repeat.
    private final Map<String, Long> lastTokens = new HashMap<>();
    private final WakeUps releaseListeners = new WakeUps();

    synchronized Acquisition acquire(String key, String owner, Duration ttl, String attempt) {
        long now = System.nanoTime();
        Hold current = holds.get(key);
        if (current != null && current.liveAt(now)) {
            if (!current.owner().equals(owner)) {
                return Acquisition.heldBy(current.stored(now));
            }
            Hold extended = current.extendedTo(now + ttl.toNanos());
            holds.put(key, extended);
            return Acquisition.refreshed(extended.stored(now));
        }
        long token = lastTokens.merge(key, 1L, Long::sum);
        Hold created = new Hold(owner, token, now + ttl.toNanos(), attempt);
        holds.put(key, created);
        return Acquisition.acquired(created.stored(now));
    }

    /** How long the owner's hold now lasts; empty if the owner does not hold the lock. */
    synchronized Optional<Duration> refresh(String key, String owner, Duration ttl) {
        long now = System.nanoTime();
        Hold current = holds.get(key);
        if (current == null || !current.liveAt(now) || !current.owner().equals(owner)) {
            return Optional.empty();
        }
        Hold extended = current.extendedTo(now + ttl.toNanos());
        holds.put(key, extended);
        return Optional.of(extended.stored(now).remaining());
    }

    /** Ends the hold only if {@code attempt} created it and its owner has not touched it since. */
    boolean undo(String key, String owner, String attempt) {
        synchronized (this) {
            Hold current = holds.get(key);
            if (current == null || !current.owner().equals(owner) || !attempt.equals(current.createdBy())) {
                return false;
            }
            holds.remove(key);
        }
        notifyReleased(key);
        return true;
    }

    boolean release(String key, String owner) {
        boolean released;
        synchronized (this) {
            Hold current = holds.get(key);
            released = current != null && current.owner().equals(owner) && current.liveAt(System.nanoTime());
            if (current != null && current.owner().equals(owner)) {
                holds.remove(key);
            }
        }
        if (released) {
            notifyReleased(key);
        }
        return released;
    }

    synchronized Optional<StoredHold> read(String key) {
        long now = System.nanoTime();
        Hold current = holds.get(key);
        return current != null && current.liveAt(now) ? Optional.of(current.stored(now)) : Optional.empty();
    }

    /** Drops the hold as a cleanup of expired records would; the token counter stays. */
    void forget(String key) {
        synchronized (this) {
            holds.remove(key);
        }
        notifyReleased(key);
    }

    Subscription subscribe(String key, Runnable wake) {
        return releaseListeners.add(key, wake);
    }

    private void notifyReleased(String key) {
        releaseListeners.wake(key);
    }
}
