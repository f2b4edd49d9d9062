package io.dlm4j.mongo;

import com.mongodb.WriteConcern;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import org.bson.Document;

import java.time.Duration;
import java.util.Date;

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
    private volatile Reading reading;

    ServerClock(MongoCollection<Document> collection) {
        // a scratch document: no need to wait for replication, and that keeps the round trip short
        this.probes = collection.withWriteConcern(WriteConcern.W1);
    }

    /** The server's time now, as well as this client knows it. */
    Date now() {
        Reading r = reading;
        if (r == null) {
            measure();
            r = reading;
        }
        long elapsedMillis = (System.nanoTime() - r.localNanos()) / 1_000_000;
        return new Date(r.serverMillis() + elapsedMillis);
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
        synchronized (this) {
            Reading current = reading;
            if (current == null || candidate.uncertaintyNanosAt(received) <= current.uncertaintyNanosAt(received)) {
                reading = candidate;
            }
        }
    }
}
