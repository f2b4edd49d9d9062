package io.dlm4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Medians with min and max over the repetitions, per backend, scenario and library; and the ratios
 * dlm4j/library computed pair by pair (same repetition, same server) before taking their median.
 */
final class Summary {

    static final List<String> NUMBERS = List.of("opsPerSecond", "acquireP50Us", "acquireP99Us", "releaseP50Us", "releaseP99Us", "handoffP50Us",
            "handoffP99Us", "handoffToOtherP50Us", "ownerChangeShare", "commandsPerAcquire", "commandsPerRelease",
            "keysLeftPerLock", "commandsPerSecond", "commandsPer100LeasesPerPeriod", "leases", "lost", "refreshPeriodMs");
    /** Copied from the first repetition: what the commands were. */
    static final List<String> DETAILS = List.of("acquireCommands", "releaseCommands", "serverAcquireCommands",
            "serverReleaseCommands", "commandsPerSecondByName", "requestsPerAcquisition");

    private Summary() {
    }

    /** One row per backend, scenario and library, in the order they first ran. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> of(List<Map<String, Object>> forks) {
        // key "backend/scenario/library" -> rep -> result
        Map<String, Map<Integer, Map<String, Object>>> byKey = new LinkedHashMap<>();
        Map<String, String> errors = new LinkedHashMap<>();
        for (Map<String, Object> fork : forks) {
            String backend = (String) fork.get("backend");
            String library = (String) fork.get("library");
            int rep = ((Number) fork.get("rep")).intValue();
            if (fork.containsKey("error")) {
                errors.put(backend + "/" + library, String.valueOf(fork.get("error")));
            }
            for (Map<String, Object> r : (List<Map<String, Object>>) fork.get("results")) {
                if (r.containsKey("error")) {
                    errors.put(backend + "/" + library, r.get("scenario") + " (fork " + rep + "): " + r.get("error"));
                    continue;
                }
                byKey.computeIfAbsent(backend + "/" + r.get("scenario") + "/" + library, k -> new LinkedHashMap<>())
                        .put(rep, r);
            }
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var e : byKey.entrySet()) {
            String[] k = e.getKey().split("/");
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("backend", k[0]);
            row.put("scenario", k[1]);
            row.put("library", k[2]);
            row.put("repetitions", e.getValue().size());
            for (String metric : NUMBERS) {
                Stat s = Stat.of(e.getValue().values().stream().map(r -> number(r.get(metric))).filter(Objects::nonNull)
                        .mapToDouble(Double::doubleValue).toArray());
                if (s != null) {
                    row.put(metric, s.toMap());
                }
            }
            Map<String, Object> first = e.getValue().values().iterator().next();
            for (String detail : DETAILS) {
                if (first.containsKey(detail)) {
                    row.put(detail, first.get(detail));
                }
            }
            Map<Integer, Map<String, Object>> dlm4j = byKey.get(k[0] + "/" + k[1] + "/dlm4j");
            if (dlm4j != null && !k[2].equals("dlm4j")) {
                putRatio(row, "dlm4jOverThisOps", dlm4j, e.getValue(), "opsPerSecond");
                putRatio(row, "dlm4jOverThisHandoffP50", dlm4j, e.getValue(), "handoffP50Us");
            }
            rows.add(row);
        }
        errors.forEach((lib, error) -> {
            Map<String, Object> row = new LinkedHashMap<>();
            String[] k = lib.split("/");
            row.put("backend", k[0]);
            row.put("scenario", "error");
            row.put("library", k[1]);
            row.put("error", error);
            rows.add(row);
        });
        return rows;
    }

    private static void putRatio(Map<String, Object> row, String name, Map<Integer, Map<String, Object>> dlm4j,
                                 Map<Integer, Map<String, Object>> other, String metric) {
        List<Double> ratios = new ArrayList<>();
        for (var rep : other.entrySet()) {
            Map<String, Object> mine = dlm4j.get(rep.getKey());
            Double a = mine == null ? null : number(mine.get(metric));
            Double b = number(rep.getValue().get(metric));
            if (a != null && b != null && b != 0) {
                ratios.add(a / b);
            }
        }
        Stat s = Stat.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
        if (s != null) {
            row.put(name, s.toMap());
        }
    }

    static Double number(Object o) {
        if (o instanceof Number n && !Double.isNaN(n.doubleValue())) {
            return n.doubleValue();
        }
        return null;
    }

    /** Median, min, max. */
    record Stat(double median, double min, double max) {
        static Stat of(double[] values) {
            if (values.length == 0) {
                return null;
            }
            double[] v = values.clone();
            Arrays.sort(v);
            double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            return new Stat(median, v[0], v[v.length - 1]);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("median", median);
            m.put("min", min);
            m.put("max", max);
            return m;
        }
    }
}
