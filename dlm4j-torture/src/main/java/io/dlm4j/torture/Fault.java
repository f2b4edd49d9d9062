package io.dlm4j.torture;

/** The faults the nemesis injects, one at a time; RELIABILITY.md says what each does and where it applies. */
enum Fault {
    /** No fault: the baseline. */
    NONE("none"),
    /** SIGSTOP a worker inside its critical section for 1.5 x ttl, then SIGCONT: the classic GC pause. */
    PAUSE_HOLDER("pause-holder"),
    /** kill -9 a worker inside its critical section; a replacement with a new name starts. */
    KILL_HOLDER("kill-holder"),
    /** Jump a worker's wall clock (its Dlm's clock) by plus or minus minutes, then back. */
    CLOCK_JUMP("clock-jump"),
    /** kill -9 a server while a worker is inside its critical section, then restart it at once. */
    KILL_RESTART_SERVER("kill-restart-server"),
    /** Stop a server cleanly (its shutdown disconnects the clients) while a worker is inside its critical section, start it again at once. */
    RESTART_SERVER("restart-server"),
    /** SIGSTOP a server for a few seconds, then SIGCONT. */
    PAUSE_SERVER("pause-server"),
    /** Redlock: kill -9 one of three masters, restart it (empty) 2 s later. */
    REDLOCK_KILL_MINORITY("redlock-kill-minority"),
    /** etcd: kill -9 the leader of the three members, restart it 2 s later. */
    ETCD_KILL_LEADER("etcd-kill-leader"),
    /**
     * Hold the traffic between the workers and the servers (both directions, in the loopback proxy)
     * for longer than the operation timeout, then let it through in order: requests land after their
     * callers gave up.
     */
    HOLD_TRAFFIC("hold-traffic"),
    /** Requests pass; replies arrive later than the operation timeout. */
    LATE_REPLIES("late-replies"),
    /** Replies pass; requests arrive later than the operation timeout. */
    LATE_REQUESTS("late-requests");

    private final String label;

    Fault(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
