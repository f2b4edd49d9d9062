package io.dlm4j.torture;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the workers' histories and the resource log of one scenario and counts what went wrong.
 * Pure: the harness, the tests and anyone with the files on disk can run it.
 */
final class Checker {

    private static final int EXAMPLES_PER_KIND = 3;

    private final long stuckBoundNanos;

    /**
     * @param stuckBoundNanos an acquisition that takes longer than this (maxWait + operation timeout
     *                        + slack) counts as stuck
     */
    Checker(long stuckBoundNanos) {
        this.stuckBoundNanos = stuckBoundNanos;
    }

    /**
     * @param history        every worker's events, in any order
     * @param resourceLog    the resource's ops in arrival order
     * @param killedProcesses workers the nemesis killed: an acquisition they left open is not stuck
     */
    Findings check(List<HistoryEvent> history, List<ResourceOp> resourceLog, Set<String> killedProcesses) {
        List<String> examples = new ArrayList<>();
        List<Acquisition> acquisitions = acquisitions(history);
        long ok = acquisitions.stream().filter(a -> a.token != null).count();
        long stuck = stuck(acquisitions, killedProcesses, examples);
        long order = tokenOrderViolations(acquisitions, examples);
        long overlaps = overlaps(resourceLog, examples);
        long stale = resourceLog.stream().filter(ResourceOp::staleRejected).count();
        long lostFenced = count(resourceLog.stream().filter(ResourceOp::lostFencedUpdate).toList(), "lost fenced update", examples);
        long lostUnfenced = count(resourceLog.stream().filter(ResourceOp::lostUnfencedUpdate).toList(), "lost unfenced update", examples);
        return new Findings(ok, overlaps, stale, lostFenced, lostUnfenced, order, stuck,
                longestHoldMillis(acquisitions, resourceLog), List.copyOf(examples));
    }

    /**
     * One acquire invoke and its completion, if any; {@code releasedOk} when its worker's release
     * of it completed ok.
     */
    private record Acquisition(String process, String key, long invoked, Long completed, String outcome, Long token,
                               boolean releasedOk) {

        Acquisition released() {
            return new Acquisition(process, key, invoked, completed, outcome, token, true);
        }
    }

    private static List<Acquisition> acquisitions(List<HistoryEvent> history) {
        Map<String, List<HistoryEvent>> byProcess = new HashMap<>();
        for (HistoryEvent e : history) {
            byProcess.computeIfAbsent(e.process(), p -> new ArrayList<>()).add(e);
        }
        List<Acquisition> out = new ArrayList<>();
        for (List<HistoryEvent> events : byProcess.values()) {
            events.sort(Comparator.comparingLong(HistoryEvent::time));
            HistoryEvent open = null;
            int lastOk = -1; // index in out of this worker's last ok acquisition
            for (HistoryEvent e : events) {
                if (e.f().equals(HistoryEvent.RELEASE)) {
                    if (e.type().equals(HistoryEvent.OK) && lastOk >= 0 && out.get(lastOk).key.equals(e.key())
                            && out.get(lastOk).token.equals(e.token())) {
                        out.set(lastOk, out.get(lastOk).released());
                    }
                    continue;
                }
                if (e.type().equals(HistoryEvent.INVOKE)) {
                    if (open != null) { // a new invoke without completion: the history is broken
                        out.add(new Acquisition(open.process(), open.key(), open.time(), null, null, null, false));
                    }
                    open = e;
                    lastOk = -1;
                } else if (open != null) {
                    boolean ok = e.type().equals(HistoryEvent.OK);
                    out.add(new Acquisition(open.process(), open.key(), open.time(), e.time(), e.type(),
                            ok ? e.token() : null, false));
                    lastOk = ok ? out.size() - 1 : -1;
                    open = null;
                }
            }
            if (open != null) {
                out.add(new Acquisition(open.process(), open.key(), open.time(), null, null, null, false));
            }
        }
        return out;
    }

    /** The longest time from an ok acquisition to its WRITE's arrival at the resource. */
    private static long longestHoldMillis(List<Acquisition> acquisitions, List<ResourceOp> log) {
        Map<String, Long> grantedAt = new HashMap<>();
        for (Acquisition a : acquisitions) {
            if (a.token != null) {
                grantedAt.put(a.process + "\u0000" + a.key + "\u0000" + a.token, a.completed);
            }
        }
        long longest = 0;
        for (ResourceOp op : log) {
            Long granted = op.isWrite() ? grantedAt.get(op.process() + "\u0000" + op.key() + "\u0000" + op.token()) : null;
            if (granted != null) {
                longest = Math.max(longest, op.arrival() - granted);
            }
        }
        return longest / 1_000_000;
    }

    private long stuck(List<Acquisition> acquisitions, Set<String> killed, List<String> examples) {
        List<String> found = new ArrayList<>();
        for (Acquisition a : acquisitions) {
            if (a.completed == null && !killed.contains(a.process)) {
                found.add("stuck: " + a.process + " acquire " + a.key + " invoked at " + a.invoked + " never completed");
            } else if (a.completed != null && a.completed - a.invoked > stuckBoundNanos) {
                found.add("stuck: " + a.process + " acquire " + a.key + " took " + (a.completed - a.invoked) / 1_000_000
                        + " ms (" + a.outcome + ")");
            }
        }
        return addExamples(found, examples);
    }

    /**
     * For one key: if B was invoked after A completed ok, B's token must be above A's. Sorted by
     * completion, a running maximum of the tokens completed before each invoke answers it for all
     * pairs at once. The exception is a relock: see below.
     */
    private static long tokenOrderViolations(List<Acquisition> acquisitions, List<String> examples) {
        Map<String, List<Acquisition>> okByKey = new HashMap<>();
        for (Acquisition a : acquisitions) {
            if (a.token != null) {
                okByKey.computeIfAbsent(a.key, k -> new ArrayList<>()).add(a);
            }
        }
        List<String> found = new ArrayList<>();
        for (List<Acquisition> list : okByKey.values()) {
            List<Acquisition> byCompletion = new ArrayList<>(list);
            byCompletion.sort(Comparator.comparingLong(a -> a.completed));
            long[] completedAt = new long[byCompletion.size()];
            Acquisition[] highestSoFar = new Acquisition[byCompletion.size()];
            Acquisition highest = null;
            for (int i = 0; i < byCompletion.size(); i++) {
                Acquisition a = byCompletion.get(i);
                if (highest == null || a.token > highest.token) {
                    highest = a;
                }
                completedAt[i] = a.completed;
                highestSoFar[i] = highest;
            }
            for (Acquisition b : list) {
                int before = lastIndexBefore(completedAt, b.invoked);
                if (before < 0) {
                    continue;
                }
                Acquisition a = highestSoFar[before];
                // The owner rule: locking again while one's own hold lives keeps its token. A hold
                // whose release was not confirmed may live on, so its worker may get its token again.
                boolean relock = a.process.equals(b.process) && a.token.equals(b.token) && !a.releasedOk;
                if (b.token <= a.token && !relock) {
                    found.add("token order: " + b.process + " got " + b.token + " on " + b.key + " after "
                            + a.process + " had completed with " + a.token);
                }
            }
        }
        return addExamples(found, examples);
    }

    /** The last index whose value is below {@code time}, or -1. */
    private static int lastIndexBefore(long[] sorted, long time) {
        int lo = 0;
        int hi = sorted.length - 1;
        int ans = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < time) {
                ans = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return ans;
    }

    /**
     * Critical sections are [READ arrival, WRITE arrival] of one process with one token; a section
     * with no WRITE (its worker was killed) changed nothing and is left out. Counts intersecting
     * pairs of different processes on one key.
     */
    private static long overlaps(List<ResourceOp> log, List<String> examples) {
        record Section(String key, String process, long token, long start, long end) {
        }
        Map<String, ResourceOp> openRead = new HashMap<>();
        Map<String, List<Section>> byKey = new HashMap<>();
        for (ResourceOp op : log) {
            String id = op.process() + "\u0000" + op.key() + "\u0000" + op.token();
            if (!op.isWrite()) {
                openRead.put(id, op);
            } else {
                ResourceOp read = openRead.remove(id);
                if (read != null) {
                    byKey.computeIfAbsent(op.key(), k -> new ArrayList<>())
                            .add(new Section(op.key(), op.process(), op.token(), read.arrival(), op.arrival()));
                }
            }
        }
        List<String> found = new ArrayList<>();
        for (List<Section> sections : byKey.values()) {
            sections.sort(Comparator.comparingLong(Section::start));
            for (int i = 0; i < sections.size(); i++) {
                Section a = sections.get(i);
                for (int j = i + 1; j < sections.size() && sections.get(j).start < a.end; j++) {
                    Section b = sections.get(j);
                    if (!b.process.equals(a.process)) {
                        found.add("overlap on " + a.key + ": " + a.process + " (token " + a.token + ") and "
                                + b.process + " (token " + b.token + ") for " + (Math.min(a.end, b.end) - b.start) / 1_000_000 + " ms");
                    }
                }
            }
        }
        return addExamples(found, examples);
    }

    private static long count(List<ResourceOp> ops, String what, List<String> examples) {
        List<String> found = new ArrayList<>();
        for (ResourceOp op : ops) {
            found.add(what + ": " + op.process() + " token " + op.token() + " on " + op.key() + " wrote "
                    + (what.contains("unfenced") ? op.unfencedWritten() + " over " + op.unfencedBefore()
                    : op.fencedWritten() + " over " + op.fencedBefore()));
        }
        return addExamples(found, examples);
    }

    private static long addExamples(List<String> found, List<String> examples) {
        examples.addAll(found.subList(0, Math.min(EXAMPLES_PER_KIND, found.size())));
        return found.size();
    }
}
