package io.dlm4j.torture;

/** The faults the nemesis injects, one at a time. */
enum Fault {
    /** No fault: the baseline. */
    NONE("none", "no fault: the baseline"),
    /** SIGSTOP a worker inside its critical section for 1.5 x ttl, then SIGCONT: the classic GC pause. */
    PAUSE_HOLDER("pause-holder", "SIGSTOP a worker inside its critical section for 1.5 x ttl, then SIGCONT (a GC pause)"),
    /** kill -9 a worker inside its critical section; a replacement with a new name starts. */
    KILL_HOLDER("kill-holder", "kill -9 a worker inside its critical section; a replacement (new owner) starts"),
    /** Jump a worker's wall clock (its Dlm's clock) by plus or minus minutes, then back. */
    CLOCK_JUMP("clock-jump", "jump a worker's wall clock (DlmOptions.clock) by +-5 minutes for 2 s, then back"),
    /** kill -9 a server while a worker is inside its critical section, then restart it at once. */
    KILL_RESTART_SERVER("kill-restart-server", "kill -9 the server while a worker is inside its critical section, restart it at once"),
    /** SIGSTOP a server for a few seconds, then SIGCONT. */
    PAUSE_SERVER("pause-server", "SIGSTOP a server (etcd: the leader; Redlock: one master) for 3 s, then SIGCONT"),
    /** Redlock: kill -9 one of three masters, restart it (empty) 2 s later. */
    REDLOCK_KILL_MINORITY("redlock-kill-minority", "kill -9 one of the three masters, restart it (empty) 2 s later"),
    /** etcd: kill -9 the leader of the three members, restart it 2 s later. */
    ETCD_KILL_LEADER("etcd-kill-leader", "kill -9 the leader of the three members, restart it 2 s later");

    private final String label;
    private final String description;

    Fault(String label, String description) {
        this.label = label;
        this.description = description;
    }

    String label() {
        return label;
    }

    String description() {
        return description;
    }

    /** Faults of a worker, which apply to every backend. */
    boolean onWorker() {
        return this == PAUSE_HOLDER || this == KILL_HOLDER || this == CLOCK_JUMP;
    }
}
