package io.dlm4j.torture;

import java.util.List;

/**
 * One backend under one fault.
 *
 * @param faultsInjected   faults the nemesis injected (and healed)
 * @param forceKilled      workers that had not stopped by themselves at the end (they count as stuck)
 * @param holdsBeforeRestart live holds on the server just before its kill-restart faults (summed);
 *                         -1 where not measured
 * @param holdsAfterRestart of those, how many the server still had just after the restarts (summed);
 *                         -1 where not measured
 * @param workerFailures workers that ended with an error (not killed by the nemesis): the harness
 *                         itself broke
 * @param lateBytes        bytes the network faults made late, requests and replies together (0 under
 *                         other faults)
 * @param callsGivenUp     acquisitions and releases that ended {@code info}: the backend failed or did
 *                         not answer within the operation timeout
 * @param notes            worker failures, nemesis events and examples of violations
 */
record ScenarioResult(String backend, Fault fault, Findings findings, int faultsInjected, int forceKilled,
                      long holdsBeforeRestart, long holdsAfterRestart, int workerFailures, long millis,
                      long lateBytes, long callsGivenUp, List<String> notes) {

    long stuck() {
        return findings.stuck() + forceKilled;
    }
}
