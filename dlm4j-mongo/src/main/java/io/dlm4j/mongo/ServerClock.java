package io.dlm4j.mongo;

import com.mongodb.WriteConcern;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import org.bson.Document;

import java.time.Duration;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import static com.mongodb.client.model.Filters.eq;

/**
 * The MongoDB server's clock, as seen from this client: a reading of the server's time taken with
 * {@code $currentDate} on a probe document, carried forward on {@link System#nanoTime()}.
 *
 * <p>Why: MongoDB rejects {@code $expr} (and so {@code $$NOW}) in the query of an upsert, so the
 * "is it expired?" filter needs a time from the client; this makes it the server's time. The
 * client's wall clock is never used, so a client whose clock is off by an hour still judges expiry
 * as the server does.
 *
 * <p>Accuracy: the server read its clock somewhere inside the probe's round trip, so a reading is
 * off by at most half that round trip (sub-millisecond on a LAN), plus the drift of this machine's
 * monotonic clock since (allowed for at 100 ppm), plus the millisecond that {@code $currentDate}
 * truncates. Of the current reading and a new one, the one with the smaller bound is kept.
 * {@link #bounds()} gives the interval the server's time is surely in; the lock commands use its
 * ends, never the midpoint {@link #now()}, because two clients' midpoints can differ by up to the
 * sum of their bounds.
 */
final class ServerClock {

    static final Document PROBE_ID = new Document("clockOf", "dlm4j");
    private static final String NOW = "now";
    private static final double DRIFT_PER_NANO = 100e-6;
    private static final long NANOS_PER_MILLI = 1_000_000;

    /** One round trip that reads the server's clock: a seam for tests that script the replies. */
    interface Probe {
        Date serverTime();
    }

    /**
     * Where the server's time surely is now, in whole milliseconds: {@code earliest <= server-now <= latest}.
     */
    record Bounds(long earliestMillis, long latestMillis) {

        /** A hold's expiry before which the server's time is surely not: latest + ttl rounded up. */
        Date expiryAfter(Duration ttl) {
            return new Date(latestMillis + ceilMillis(ttl));
        }

        /** Expiries before this are past for sure: only they may be taken over. */
        Date earliest() {
            return new Date(earliestMillis);
        }

        /** How long a hold with {@code expiry} lasts at least: what its holder may count on. */
        Duration surelyLeft(Date expiry) {
            return Duration.ofMillis(Math.max(0, expiry.getTime() - latestMillis));
        }

        /** How long until a hold with {@code expiry} may be taken over: what a waiter waits for. */
        Duration untilFree(Date expiry) {
            return Duration.ofMillis(Math.max(0, expiry.getTime() + 1 - earliestMillis));
        }

        private static long ceilMillis(Duration duration) {
            long millis = duration.toMillis();
            return duration.minusMillis(millis).isZero() ? millis : millis + 1;
        }
    }

    private record Reading(long serverMillis, long localNanos, long halfRoundTripNanos) {
        double uncertaintyNanosAt(long nanos) {
            return halfRoundTripNanos + (nanos - localNanos) * DRIFT_PER_NANO;
        }

        /** The server's time at {@code nanos} by this reading, in nanoseconds since the epoch. */
        long midpointNanosAt(long nanos) {
            return serverMillis * NANOS_PER_MILLI + (nanos - localNanos);
        }
    }

    private final Probe probe;
    private final LongSupplier nanoTime;
    /**
     * Makes the compare-and-keep of a new reading atomic. Held only for that comparison, never
     * across the probe's round trip, but a j.u.c lock rather than a monitor all the same, so that a
     * virtual thread that meets it contended parks without pinning its carrier.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Reading reading;
    /**
     * The latest times handed out: a more accurate reading may be up to a round trip behind the
     * previous one, and a clock that steps back would judge a hold live just after a release judged
     * it expired (seen with a sub-millisecond ttl: the release matched nothing, the read found a hold).
     * The server's time never runs back, so the larger of two earliest (or latest) bounds is still one.
     */
    private final AtomicLong lastMillis = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastEarliest = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastLatest = new AtomicLong(Long.MIN_VALUE);

    ServerClock(MongoCollection<Document> collection) {
        // a scratch document: no need to wait for replication, and that keeps the round trip short
        this(probeOn(collection.withWriteConcern(WriteConcern.W1)), System::nanoTime);
    }

    ServerClock(Probe probe, LongSupplier nanoTime) {
        this.probe = probe;
        this.nanoTime = nanoTime;
    }

    private static Probe probeOn(MongoCollection<Document> probes) {
        return () -> {
            Document reply = probes.findOneAndUpdate(eq("_id", PROBE_ID), Updates.currentDate(NOW),
                    new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
            if (reply == null || !(reply.get(NOW) instanceof Date serverTime)) {
                throw new IllegalStateException("the server returned no $currentDate reading: " + reply);
            }
            return serverTime;
        };
    }

    /**
     * The server's time now, as well as this client knows it (the midpoint estimate); never
     * earlier than a time it returned before. For display and tests: decisions use {@link #bounds()}.
     */
    Date now() {
        Reading r = current();
        long millis = Math.floorDiv(r.midpointNanosAt(nanoTime.getAsLong()), NANOS_PER_MILLI);
        return new Date(lastMillis.accumulateAndGet(millis, Math::max));
    }

    /** Where the server's time surely is now. */
    Bounds bounds() {
        Reading r = current();
        long at = nanoTime.getAsLong();
        long midpoint = r.midpointNanosAt(at);
        long uncertainty = (long) Math.ceil(r.uncertaintyNanosAt(at));
        long earliest = Math.floorDiv(midpoint - uncertainty, NANOS_PER_MILLI);
        // + 1 ms: $currentDate truncates the server's time to the millisecond
        long latest = Math.floorDiv(midpoint + uncertainty + NANOS_PER_MILLI - 1, NANOS_PER_MILLI) + 1;
        return new Bounds(lastEarliest.accumulateAndGet(earliest, Math::max),
                lastLatest.accumulateAndGet(latest, Math::max));
    }

    private Reading current() {
        Reading r = reading;
        if (r == null) {
            measure();
            r = reading;
        }
        return r;
    }

    boolean isMeasured() {
        return reading != null;
    }

    /** The bound on this clock's error now. */
    Duration uncertainty() {
        Reading r = reading;
        return r == null ? null : Duration.ofNanos((long) r.uncertaintyNanosAt(nanoTime.getAsLong()));
    }

    /** Takes one reading and keeps it if it is more accurate than the current one. */
    void measure() {
        long sent = nanoTime.getAsLong();
        Date serverTime = probe.serverTime();
        long received = nanoTime.getAsLong();
        long roundTrip = received - sent;
        // rounded up, so that the bound covers both ends of an odd round trip
        Reading candidate = new Reading(serverTime.getTime(), sent + roundTrip / 2, (roundTrip + 1) / 2);
        lock.lock();
        try {
            Reading current = reading;
            if (current == null || candidate.uncertaintyNanosAt(received) <= current.uncertaintyNanosAt(received)) {
                reading = candidate;
            }
        } finally {
            lock.unlock();
        }
    }
}
