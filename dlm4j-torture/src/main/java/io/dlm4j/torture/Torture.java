package io.dlm4j.torture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Runs every backend through every fault that applies to it and writes the report.
 * <pre>
 * java -cp CLASSPATH io.dlm4j.torture.Torture [--quick] [--seed=N] [--report=RELIABILITY.md]
 *      [--work=target/torture] [--backends=mongo,redis,redlock,etcd,postgres,mariadb] [--faults=pause-holder,...]
 *      [--command="scripts/torture"]
 * </pre>
 * Exits 1 if a must-hold property was broken (the report is written first), 2 on bad arguments.
 */
public final class Torture {

    /** The backends, in report order. The in-memory backend lives in one JVM: it cannot be tortured across processes. */
    static final List<String> BACKENDS = List.of("mongo", "redis", "redlock", "etcd", "postgres", "mariadb");

    /**
     * The backends of {@code --quick} (and of {@code mvn verify}'s TortureQuickTest) when no
     * {@code --backends} is given: PostgreSQL and MariaDB are left out, since their ten quick
     * scenarios (five each) took 96 s together when measured, far above the half minute allowed; {@code --quick --backends=postgres,mariadb}
     * runs them.
     */
    static final List<String> QUICK_BACKENDS = List.of("mongo", "redis", "redlock", "etcd");

    private Torture() {
    }

    public static void main(String[] args) throws Exception {
        // the in-process MongoDB wire server logs every connection at INFO: keep the run's output readable
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        boolean quick = false;
        long seed = System.currentTimeMillis();
        Path report = null;
        Path work = Paths.get("target", "torture");
        Set<String> backends = null;
        Set<String> onlyFaults = null;
        String command = "io.dlm4j.torture.Torture " + String.join(" ", args);
        for (String a : args) {
            if (a.equals("--quick")) {
                quick = true;
            } else if (a.startsWith("--seed=")) {
                seed = Long.parseLong(a.substring(7));
            } else if (a.startsWith("--report=")) {
                report = Paths.get(a.substring(9));
            } else if (a.startsWith("--work=")) {
                work = Paths.get(a.substring(7));
            } else if (a.startsWith("--backends=")) {
                backends = new HashSet<>(Arrays.asList(a.substring(11).split(",")));
            } else if (a.startsWith("--faults=")) {
                onlyFaults = new HashSet<>(Arrays.asList(a.substring(9).split(",")));
            } else if (a.startsWith("--command=")) {
                command = a.substring(10);
            } else {
                System.err.println("unknown argument '" + a + "'; known: --quick --seed=N --report=FILE --work=DIR "
                        + "--backends=" + String.join(",", BACKENDS) + " --faults=pause-holder,... --command=TEXT");
                System.exit(2);
            }
        }
        if (backends == null) {
            backends = new HashSet<>(quick ? QUICK_BACKENDS : BACKENDS);
        }
        Settings settings = quick ? Settings.quick() : Settings.full();
        System.out.println("torture: seed " + seed + (quick ? " (quick)" : " (full)"));
        List<ScenarioResult> results = run(backends, onlyFaults, quick, settings, seed, work,
                System.getProperty("java.class.path"));
        List<String> violations = MustHold.violations(results);
        if (report != null) {
            String text = ReliabilityReport.render(results, settings, command, seed, machine(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), violations);
            Files.writeString(report, text, StandardCharsets.UTF_8);
            System.out.println("torture: wrote " + report);
        }
        if (!violations.isEmpty()) {
            System.err.println("torture: must-hold properties broken:\n  " + String.join("\n  ", violations));
            System.exit(1);
        }
        System.out.println("torture: every must-hold property kept in " + results.size() + " scenarios");
        System.exit(0);
    }

    /** Runs the scenarios of the given backends; the quick run takes the faults that show the most. */
    static List<ScenarioResult> run(Set<String> backends, Set<String> onlyFaults, boolean quick, Settings settings,
                                    long seed, Path work, String classPath) throws InterruptedException, IOException {
        Files.createDirectories(work);
        ScenarioRunner runner = new ScenarioRunner(classPath, settings, work);
        List<ScenarioResult> results = new ArrayList<>();
        long scenarioSeed = seed;
        for (String backend : BACKENDS) {
            if (!backends.contains(backend)) {
                continue;
            }
            try (SystemUnderTest system = start(backend).get()) {
                for (Fault fault : faults(system, quick)) {
                    if (onlyFaults != null && !onlyFaults.contains(fault.label())) {
                        continue;
                    }
                    System.out.println("torture: " + backend + " / " + fault.label() + " ...");
                    ScenarioResult r = runner.run(system, fault, scenarioSeed++);
                    Findings f = r.findings();
                    System.out.println("torture: " + backend + " / " + fault.label() + ": ops " + f.acquisitions()
                            + ", faults " + r.faultsInjected() + ", overlaps " + f.overlaps() + ", lost unfenced "
                            + f.lostUpdatesUnfenced() + ", stale rejected " + f.staleRejected() + ", lost fenced "
                            + f.lostUpdatesFenced() + ", token order " + f.tokenOrderViolations() + ", stuck " + r.stuck()
                            + ", longest lock-to-write " + f.longestHoldMillis() + " ms"
                            + " (" + r.millis() / 1000 + " s)");
                    results.add(r);
                }
            }
        }
        return results;
    }

    static List<Fault> faults(SystemUnderTest system, boolean quick) {
        List<Fault> faults = new ArrayList<>();
        if (!quick) {
            faults.add(Fault.NONE);
        }
        faults.add(Fault.PAUSE_HOLDER);
        if (!quick) {
            faults.add(Fault.KILL_HOLDER);
            faults.add(Fault.CLOCK_JUMP);
        }
        faults.addAll(system.serverFaults());
        // every backend is reached through loopback proxies; quick takes the hold only, to stay short
        faults.add(Fault.HOLD_TRAFFIC);
        if (!quick) {
            faults.add(Fault.LATE_REPLIES);
            faults.add(Fault.LATE_REQUESTS);
        }
        return faults;
    }

    private static Supplier<SystemUnderTest> start(String backend) {
        return switch (backend) {
            case "mongo" -> MongoSystem::new;
            case "redis" -> RedisSystem::new;
            case "redlock" -> RedlockSystem::new;
            case "etcd" -> EtcdSystem::new;
            case "postgres" -> PostgresSystem::new;
            case "mariadb" -> MariaDbSystem::new;
            default -> throw new IllegalArgumentException("backend must be one of " + BACKENDS + ", was '" + backend + "'");
        };
    }

    private static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Paths.get("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            // not Linux: the model stays unknown
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB heap for the harness, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version");
    }
}
