package io.dlm4j.torture;

import java.util.ArrayList;
import java.util.List;

/**
 * What must hold in every scenario, and what must be shown.
 *
 * <p>Must hold: with fencing, no lost update, on every backend under every fault; no stuck
 * acquisition; no worker that broke; tokens in order wherever the backend keeps its counters. A
 * server restart that loses every counter (one Redis without persistence, the in-memory MongoDB wire
 * server) starts them again at 1: documented, so token order is not required there.
 */
final class MustHold {

    private MustHold() {
    }

    /** Whether the backend promises token order under this fault. */
    static boolean promisesTokenOrder(String backend, Fault fault) {
        return !(fault == Fault.KILL_RESTART_SERVER && (backend.equals("redis") || backend.equals("mongo")));
    }

    /** One line per broken promise; empty if every scenario kept them all. */
    static List<String> violations(List<ScenarioResult> results) {
        List<String> out = new ArrayList<>();
        for (ScenarioResult r : results) {
            String where = r.backend() + " / " + r.fault().label() + ": ";
            Findings f = r.findings();
            if (f.lostUpdatesFenced() > 0) {
                out.add(where + f.lostUpdatesFenced() + " lost updates with fencing");
            }
            if (r.stuck() > 0) {
                out.add(where + r.stuck() + " stuck acquisitions");
            }
            if (r.workerFailures() > 0) {
                out.add(where + r.workerFailures() + " workers failed");
            }
            if (f.tokenOrderViolations() > 0 && promisesTokenOrder(r.backend(), r.fault())) {
                out.add(where + f.tokenOrderViolations() + " token order violations");
            }
            if (f.acquisitions() == 0) {
                out.add(where + "no acquisition at all: nothing was tested");
            }
        }
        return out;
    }
}
