package io.dlm4j.torture;

import java.util.List;
import java.util.Random;
import java.util.Set;

/** A backend's servers, started by the harness, with the server faults that apply to them. */
interface SystemUnderTest extends AutoCloseable {

    /** The backend's name in the report. */
    String name();

    /** The URI the workers give {@code Dlms.fromUri}. */
    String uri();

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
            case KILL_RESTART_SERVER -> 0;
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

    @Override
    void close();

    /** Ends a fault. */
    @FunctionalInterface
    interface Heal {
        void heal();
    }
}
