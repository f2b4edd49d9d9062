package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition.Outcome;

import java.util.List;

/**
 * What one Redis server answered to the acquire script.
 *
 * @param outcome     held by another owner, refreshed (ours already) or acquired (new hold)
 * @param token       the hold's token as stored on this server
 * @param remainingMs the hold's time left by this server's clock
 * @param owner       the holder
 * @param fence       this server's fencing counter, at least every token written to it
 */
record NodeReply(Outcome outcome, long token, long remainingMs, String owner, long fence) {

    static NodeReply parse(List<Object> reply) {
        Outcome outcome = switch ((int) number(reply.get(0))) {
            case 0 -> Outcome.HELD;
            case 1 -> Outcome.REFRESHED;
            case 2 -> Outcome.ACQUIRED;
            default -> throw new IllegalStateException("unexpected reply of the acquire script: " + reply);
        };
        return new NodeReply(outcome, number(reply.get(1)), number(reply.get(2)), String.valueOf(reply.get(3)),
                number(reply.get(4)));
    }

    static long number(Object value) {
        if (value instanceof Number n) {
            return n.longValue();
        }
        return Long.parseLong(String.valueOf(value));
    }
}
