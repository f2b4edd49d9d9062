package io.dlm4j.torture;

import java.util.List;
import java.util.Random;
import java.util.Set;

/** A backend's servers, started by the harness, with the server faults that apply to them. */
interface SystemUnderTest extends AutoCloseable {

    /** The backend's name in the report. */
    String name();

    /** The URI the workers give {@code Dlms.fromUri}: it names the proxies, not the servers. */
    String uri();

    /**
     * The loopback proxies the workers reach the servers through, one per server, in server order.
     * Harness-side checks (live holds, leader lookups) go to the servers directly.
     */
    List<LoopbackProxy> proxies();

    /**
     * The proxies a network fault hits this time, and what to call them in the report: all of them
     * unless the backend says otherwise.
     *
     * @param injection how many faults the nemesis injected before this one in the scenario
     */
    default NetworkTarget networkTarget(Random random, int injection) {
        return new NetworkTarget(proxies(), proxies().size() == 1 ? name() : "all " + proxies().size() + " servers of " + name());
    }

    /** The server faults this backend takes (the worker faults apply to every backend). */
    List<Fault> serverFaults();

    /**
     * Injects a server fault and returns what heals it. The nemesis calls it while a worker is
     * inside its critical section.
     *
     * @return the heal; the nemesis runs it after the fault's duration
     */
    Heal inject(Fault fault, Random random);

    /** How long the nemesis leaves a server fault in place before healing it, in milliseconds. */
    default long faultMillis(Fault fault) {
        return switch (fault) {
            case KILL_RESTART_SERVER, RESTART_SERVER -> 0;
            case PAUSE_SERVER -> 3000;
            default -> 2000;
        };
    }

    /**
     * The holds (locks with time left) the server keeps now, each as lock and value (token and
     * owner), or null where it cannot tell.
     */
    default Set<String> liveHolds() {
        return null;
    }

    /**
     * After a restart: which of {@code before} (the {@link #liveHolds()} just before it) the server
     * kept. By default those it still lists as live; a database whose rows outlive their ttl says
     * which it still has a record of.
     */
    default Set<String> keptAcrossRestart(Set<String> before) {
        Set<String> kept = new java.util.HashSet<>(liveHolds());
        kept.retainAll(before);
        return kept;
    }

    @Override
    void close();

    /** The proxies a network fault hits, and their name in the report. */
    record NetworkTarget(List<LoopbackProxy> proxies, String where) {
    }

    /** Ends a fault. */
    @FunctionalInterface
    interface Heal {
        void heal();
    }
}
