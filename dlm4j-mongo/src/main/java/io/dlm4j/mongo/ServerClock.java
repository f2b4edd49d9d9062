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
 * monotonic clock since (allowed for at 100 ppm). Of the current reading and a new one, the one
 * with the smaller bound is kept.
 */
final class ServerClock {

    static final Document PROBE_ID = new Document("clockOf", "dlm4j");
    private static final String NOW = "now";
    private static final double DRIFT_PER_NANO = 100e-6;

    private record Reading(long serverMillis, long localNanos, long halfRoundTripNanos) {
        double uncertaintyNanosAt(long nanos) {
            return halfRoundTripNanos + (nanos - localNanos) * DRIFT_PER_NANO;
        }
    }

    private final MongoCollection<Document> probes;
    /**
     * Makes the compare-and-keep of a new reading atomic. Held only for that comparison, never
     * across the probe's round trip, but a j.u.c lock rather than a monitor all the same, so that a
     * virtual thread that meets it contended parks without pinning its carrier.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Reading reading;
    /**
     * The latest time handed out: a more accurate reading may be up to a round trip behind the
     * previous one, and a clock that steps back would judge a hold live just after a release judged
     * it expired (seen with a sub-millisecond ttl: the release matched nothing, the read found a hold).
     */
    private final AtomicLong lastMillis = new AtomicLong(Long.MIN_VALUE);

    ServerClock(MongoCollection<Document> collection) {
        // a scratch document: no need to wait for replication, and that keeps the round trip short
        this.probes = collection.withWriteConcern(WriteConcern.W1);
    }

    /** The server's time now, as well as this client knows it; never earlier than a time it returned before. */
    Date now() {
        Reading r = reading;
        if (r == null) {
            measure();
            r = reading;
        }
        long elapsedMillis = (System.nanoTime() - r.localNanos()) / 1_000_000;
        long millis = r.serverMillis() + elapsedMillis;
        return new Date(lastMillis.accumulateAndGet(millis, Math::max));
    }

    boolean isMeasured() {
        return reading != null;
    }

    /** The bound on this clock's error now. */
    Duration uncertainty() {
        Reading r = reading;
        return r == null ? null : Duration.ofNanos((long) r.uncertaintyNanosAt(System.nanoTime()));
    }

    /** Takes one reading and keeps it if it is more accurate than the current one. */
    void measure() {
        long sent = System.nanoTime();
        Document probe = probes.findOneAndUpdate(eq("_id", PROBE_ID), Updates.currentDate(NOW),
                new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
        long received = System.nanoTime();
        if (probe == null || !(probe.get(NOW) instanceof Date serverTime)) {
            throw new IllegalStateException("the server returned no $currentDate reading: " + probe);
        }
        long halfRoundTrip = (received - sent) / 2;
        Reading candidate = new Reading(serverTime.getTime(), sent + halfRoundTrip, halfRoundTrip);
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
