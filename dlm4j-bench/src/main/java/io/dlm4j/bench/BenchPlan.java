package io.dlm4j.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Which libraries run which scenarios on each backend, and for how long; {@code --quick} or full. */
record BenchPlan(String mode, int repetitions, Duration warmupMin, Duration warmupMax, Duration leadIn,
                 Duration measure, int costLocks, Map<String, Integer> refreshLeases, Duration refreshTtl,
                 Duration refreshWindow, List<String> backends) {

    static final List<String> ALL_BACKENDS = List.of("redis", "redlock", "etcd", "mongo", "postgres", "mariadb");
    /**
     * What {@code --quick} runs without {@code --only}: the JDBC backends would add about two minutes
     * (ten forks and two database servers), so {@code --quick --only postgres,mariadb} runs them.
     */
    static final List<String> QUICK_BACKENDS = List.of("redis", "redlock", "etcd", "mongo");

    static BenchPlan quick(List<String> backends) {
        return new BenchPlan("quick", 1, Duration.ofSeconds(1), Duration.ofMillis(1500), Duration.ofMillis(200),
                Duration.ofMillis(800), 50, Map.of("redis", 10_000, "redlock", 1_000, "etcd", 500, "mongo", 500,
                        "postgres", 500, "mariadb", 500),
                Duration.ofSeconds(3), Duration.ofSeconds(2), backends);
    }

    static BenchPlan full(List<String> backends) {
        // 3 forks x 17 libraries in under 20 minutes on 2 cores: warm-up is bounded at 10 s
        return new BenchPlan("full", 3, Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofMillis(500),
                Duration.ofMillis(1500), 200, Map.of("redis", 10_000, "redlock", 2_000, "etcd", 1_000, "mongo", 1_000,
                        "postgres", 1_000, "mariadb", 1_000),
                Duration.ofSeconds(3), Duration.ofSeconds(5), backends);
    }

    /** For the smoke test: tiny and short. */
    static BenchPlan smoke(List<String> backends) {
        return new BenchPlan("smoke", 1, Duration.ZERO, Duration.ofMillis(500), Duration.ofMillis(100),
                Duration.ofMillis(300), 20, Map.of("redis", 200, "redlock", 100, "etcd", 50, "mongo", 100,
                        "postgres", 50, "mariadb", 50),
                Duration.ofSeconds(3), Duration.ofMillis(1500), backends);
    }

    /** A library and the scenarios it runs on a backend. */
    record Entry(String library, List<String> scenarios) {
    }

    /** In the order forks are interleaved within one repetition. */
    static List<Entry> libraries(String backend) {
        return switch (backend) {
            case "redis" -> List.of(
                    new Entry("raw", List.of("u1", "u8", "cost")),
                    new Entry("raw-fenced", List.of("u1", "u8", "cost")),
                    new Entry("dlm4j", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("redisson", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("redisson-fenced", List.of("u1", "u8", "cost")),
                    new Entry("polling", List.of("c4", "c16", "h4")));
            case "redlock" -> List.of(
                    new Entry("raw", List.of("u1", "u8", "cost")),
                    new Entry("dlm4j", List.of("u1", "u8", "c4", "h4", "cost")),
                    new Entry("redisson-redlock", List.of("u1", "u8", "c4", "h4", "cost")));
            case "etcd" -> List.of(
                    new Entry("raw", List.of("u1", "u8", "cost")),
                    new Entry("dlm4j", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("jetcd-lock", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("polling", List.of("c4", "c16", "h4")));
            case "mongo" -> List.of(
                    new Entry("raw", List.of("u1", "u8", "cost")),
                    new Entry("dlm4j", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("shedlock", List.of("u1", "u8", "cost")),
                    new Entry("polling", List.of("c4", "c16", "h4")));
            // raw-sql: dlm4j's own statements, no engine; ShedLock cannot wait (try-lock only);
            // Spring Integration's registry waits by polling, as the polling lock does
            case "postgres", "mariadb" -> List.of(
                    new Entry("raw-sql", List.of("u1", "u8", "cost")),
                    new Entry("dlm4j", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("shedlock-jdbc", List.of("u1", "u8", "cost")),
                    new Entry("si-jdbc", List.of("u1", "u8", "c4", "c16", "h4", "cost")),
                    new Entry("polling", List.of("c4", "c16", "h4")));
            default -> throw new IllegalArgumentException("backend must be one of " + ALL_BACKENDS + ", was '" + backend + "'");
        };
    }

    ForkMain.ForkSpec fork(String backend, String library, List<String> scenarios, List<String> servers) {
        // --quick leaves out 16 threads: it has to finish in 3 minutes on 2 cores
        List<String> run = mode.equals("full") ? scenarios : scenarios.stream().filter(s -> !s.equals("c16")).toList();
        return new ForkMain.ForkSpec(backend, library, servers, run, warmupMin, warmupMax, leadIn, measure,
                costLocks, refreshLeases.get(backend), refreshTtl, refreshWindow);
    }

    static List<String> parseBackends(String list) {
        List<String> out = new ArrayList<>();
        for (String b : list.split(",")) {
            if (!ALL_BACKENDS.contains(b)) {
                throw new IllegalArgumentException("--only takes backends from " + ALL_BACKENDS + ", was '" + b + "'");
            }
            out.add(b);
        }
        return out;
    }
}
