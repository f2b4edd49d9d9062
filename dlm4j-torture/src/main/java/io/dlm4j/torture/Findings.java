package io.dlm4j.torture;

import java.util.List;

/**
 * What the {@link Checker} found in one scenario.
 *
 * @param acquisitions        ok acquisitions
 * @param overlaps            pairs of critical sections of different processes on one key that
 *                            intersect in time, by the resource's arrival times
 * @param staleRejected       reads and writes that the fenced register turned away
 * @param lostUpdatesFenced   accepted fenced writes not based on the register's current value
 * @param lostUpdatesUnfenced the same for the unfenced register
 * @param tokenOrderViolations acquisitions whose token was not above that of an acquisition of the
 *                            same key that completed before they were invoked
 * @param stuck               acquisitions that never completed in a worker that was not killed, or
 *                            that took longer than the bound
 * @param longestHoldMillis   the longest time from an ok acquisition to the arrival of its WRITE at
 *                            the resource: above the ttl, the worker wrote when its lease may have
 *                            ended (a pause, or a worker the machine did not run)
 * @param examples            a few of each violation, for the report and for debugging
 */
record Findings(long acquisitions, long overlaps, long staleRejected, long lostUpdatesFenced,
                long lostUpdatesUnfenced, long tokenOrderViolations, long stuck, long longestHoldMillis,
                List<String> examples) {
}
