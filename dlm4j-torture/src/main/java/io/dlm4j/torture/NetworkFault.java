package io.dlm4j.torture;

import io.dlm4j.torture.LoopbackProxy.Direction;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * What a network fault does to the loopback proxies between the workers and the servers, and for
 * how long. Every one of them makes traffic later than the workers' operation timeout, so that a
 * request lands, or its reply arrives, after the caller gave up: a late reply.
 */
final class NetworkFault {

    /** Past the operation timeout by this much, so that a call has surely given up when its traffic moves. */
    private static final long PAST_TIMEOUT_MILLIS = 1000;
    /** How long a one-way delay stays in place; what was read under it keeps its delay after. */
    private static final long DELAY_IN_PLACE_MILLIS = 3000;

    private final Fault fault;
    private final long operationTimeoutMillis;

    NetworkFault(Fault fault, long operationTimeoutMillis) {
        if (!applies(fault)) {
            throw new IllegalArgumentException("fault must be a network fault, was " + fault.label());
        }
        this.fault = fault;
        this.operationTimeoutMillis = operationTimeoutMillis;
    }

    static boolean applies(Fault fault) {
        return fault == Fault.HOLD_TRAFFIC || fault == Fault.LATE_REPLIES || fault == Fault.LATE_REQUESTS;
    }

    /** How late the traffic is: for a hold, how long it lasts; for a delay, the delay. */
    long lateMillis() {
        return operationTimeoutMillis + PAST_TIMEOUT_MILLIS;
    }

    /** How long the fault stays in place before {@link #heal}. */
    long inPlaceMillis() {
        return fault == Fault.HOLD_TRAFFIC ? lateMillis() : DELAY_IN_PLACE_MILLIS;
    }

    /**
     * Applies the fault either to every connection of the proxies, new ones included, or to a random
     * part of the connections open now: then some clients are late while the others go on, so what
     * lands at a server is reordered across clients, not only late. The first, third, ... fault of
     * a scenario ({@code injection} even) always hits every connection, so that each scenario has a
     * fault that no client can route around (on Redlock, that is also the one on all masters); the
     * others choose at random (seeded).
     *
     * @param injection how many faults the scenario injected before this one
     * @return which connections it hit, for the report
     */
    String inject(List<LoopbackProxy> proxies, Random random, int injection) {
        List<LoopbackProxy.Link> open = new ArrayList<>();
        proxies.forEach(p -> open.addAll(p.links()));
        boolean everyConnection = injection % 2 == 0 || random.nextBoolean();
        if (everyConnection || open.size() < 2) {
            for (LoopbackProxy p : proxies) {
                switch (fault) {
                    case HOLD_TRAFFIC -> p.hold();
                    case LATE_REPLIES -> p.delay(Direction.REPLIES, Duration.ofMillis(lateMillis()));
                    case LATE_REQUESTS -> p.delay(Direction.REQUESTS, Duration.ofMillis(lateMillis()));
                    default -> throw new IllegalStateException("not a network fault: " + fault.label());
                }
            }
            return "every connection";
        }
        // Clients keep idle connections too (subscriptions, monitors): a fault on those makes nothing
        // late. The busier half carries the calls; a part of it is hit, never all of it.
        open.sort(Comparator.comparingLong(LoopbackProxy.Link::bytesRead).reversed());
        List<LoopbackProxy.Link> busy = new ArrayList<>(open.subList(0, Math.max(2, open.size() / 2)));
        Collections.shuffle(busy, random);
        List<LoopbackProxy.Link> some = busy.subList(0, 1 + random.nextInt(busy.size() - 1));
        for (LoopbackProxy.Link link : some) {
            switch (fault) {
                case HOLD_TRAFFIC -> link.hold();
                case LATE_REPLIES -> link.delay(Direction.REPLIES, Duration.ofMillis(lateMillis()));
                case LATE_REQUESTS -> link.delay(Direction.REQUESTS, Duration.ofMillis(lateMillis()));
                default -> throw new IllegalStateException("not a network fault: " + fault.label());
            }
        }
        return some.size() + " of the " + busy.size() + " busiest of " + open.size() + " open connections";
    }

    void heal(List<LoopbackProxy> proxies) {
        for (LoopbackProxy p : proxies) {
            p.pass();
        }
    }

    /** The bytes the proxies have made late so far, requests and replies. */
    static long[] lateBytes(List<LoopbackProxy> proxies) {
        long[] out = new long[2];
        for (LoopbackProxy p : proxies) {
            out[0] += p.lateBytes(Direction.REQUESTS);
            out[1] += p.lateBytes(Direction.REPLIES);
        }
        return out;
    }

    /** One line for the report: what was done, where, and how many bytes it made late. */
    String describe(String where, String connections, long lateRequestBytes, long lateReplyBytes) {
        String what = switch (fault) {
            case HOLD_TRAFFIC -> "held both directions for " + lateMillis() + " ms";
            case LATE_REPLIES -> "delayed replies by " + lateMillis() + " ms for " + inPlaceMillis() + " ms";
            case LATE_REQUESTS -> "delayed requests by " + lateMillis() + " ms for " + inPlaceMillis() + " ms";
            default -> throw new IllegalStateException("not a network fault: " + fault.label());
        };
        return fault.label() + ": " + what + " to " + where + ", " + connections + " (late: " + lateRequestBytes + " bytes of requests, "
                + lateReplyBytes + " of replies)";
    }
}
