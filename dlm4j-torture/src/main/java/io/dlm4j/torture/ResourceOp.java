package io.dlm4j.torture;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One operation that reached the guarded resource, with what each of its two registers did.
 *
 * @param kind             READ or WRITE
 * @param arrival          {@link System#nanoTime()} in the harness when the request arrived
 *                         (CLOCK_MONOTONIC on Linux, comparable with the workers' history times)
 * @param fencedAccepted   whether the fenced register took it (its token was not below the highest seen)
 * @param fencedBefore     the fenced register's value before this op
 * @param fencedWritten    the value a WRITE asked the fenced register to take; null on READ, or when
 *                         the worker's fenced read was rejected and it had no value to base one on
 * @param unfencedBefore   the unfenced register's value before this op
 * @param unfencedWritten  the value a WRITE asked the unfenced register to take; null on READ
 */
record ResourceOp(String kind, String key, String process, long token, long arrival,
                  boolean fencedAccepted, long fencedBefore, Long fencedWritten,
                  long unfencedBefore, Long unfencedWritten) {

    static final String READ = "READ";
    static final String WRITE = "WRITE";

    boolean isWrite() {
        return kind.equals(WRITE);
    }

    /** An accepted fenced write not based on the current value: someone else's update is lost. */
    boolean lostFencedUpdate() {
        return isWrite() && fencedAccepted && fencedWritten != null && fencedWritten != fencedBefore + 1;
    }

    /** The unfenced register accepts every write; one not based on its current value loses an update. */
    boolean lostUnfencedUpdate() {
        return isWrite() && unfencedWritten != null && unfencedWritten != unfencedBefore + 1;
    }

    /** A read or write that the fence turned away (a write with no fenced value is not counted). */
    boolean staleRejected() {
        return !fencedAccepted && (!isWrite() || fencedWritten != null);
    }

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("key", key);
        m.put("process", process);
        m.put("token", token);
        m.put("arrival", arrival);
        m.put("fencedAccepted", fencedAccepted);
        m.put("fencedBefore", fencedBefore);
        m.put("fencedWritten", fencedWritten);
        m.put("unfencedBefore", unfencedBefore);
        m.put("unfencedWritten", unfencedWritten);
        return FlatJson.write(m);
    }

    static ResourceOp fromJson(String line) {
        Map<String, Object> m = FlatJson.read(line);
        return new ResourceOp((String) m.get("kind"), (String) m.get("key"), (String) m.get("process"),
                (Long) m.get("token"), (Long) m.get("arrival"), (Boolean) m.get("fencedAccepted"),
                (Long) m.get("fencedBefore"), (Long) m.get("fencedWritten"),
                (Long) m.get("unfencedBefore"), (Long) m.get("unfencedWritten"));
    }
}
