package io.dlm4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The orchestrator behind {@code scripts/bench}: starts the servers once, runs one forked JVM per
 * library and repetition (libraries interleaved, servers wiped between forks), then writes
 * {@code bench-results.json} and {@code BENCHMARKS.md}.
 *
 * <p>Arguments: {@code [--quick] [--only redis,etcd,...] [--out DIR]}. Without {@code --only} a full run
 * measures every backend, {@code --quick} all but the JDBC ones ({@link BenchPlan#QUICK_BACKENDS}).
 */
public final class BenchMain {

    private static final long FORK_TIMEOUT_MINUTES = 4;

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        boolean reportOnly = false;
        List<String> backends = null;
        Path out = Paths.get(".");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--report-only" -> reportOnly = true;
                case "--only" -> backends = BenchPlan.parseBackends(args[++i]);
                case "--out" -> out = Paths.get(args[++i]);
                default -> throw new IllegalArgumentException("arguments are [--quick] [--only redis,redlock,etcd,mongo,postgres,mariadb] "
                        + "[--out DIR] [--report-only], was '" + args[i] + "'");
            }
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Map<String, Object> results;
        if (reportOnly) { // BENCHMARKS.md again from the last results, e.g. after editing FINDINGS.md
            @SuppressWarnings("unchecked")
            Map<String, Object> last = json.readValue(out.resolve("bench-results.json").toFile(), LinkedHashMap.class);
            results = last;
        } else {
            if (backends == null) {
                backends = quick ? BenchPlan.QUICK_BACKENDS : BenchPlan.ALL_BACKENDS;
            }
            BenchPlan plan = quick ? BenchPlan.quick(backends) : BenchPlan.full(backends);
            results = run(plan, System.getProperty("bench.command", "scripts/bench"));
            Files.writeString(out.resolve("bench-results.json"), json.writeValueAsString(results) + "\n");
        }
        Files.writeString(out.resolve("BENCHMARKS.md"), new Report(results, findings()).markdown());
        System.out.println("bench: wrote " + out.resolve("BENCHMARKS.md") + " and " + out.resolve("bench-results.json"));
        System.exit(0);
    }

    /** Hand-written findings (profiles, causes) kept beside the code and copied into BENCHMARKS.md. */
    private static String findings() throws IOException {
        Path f = Paths.get(System.getProperty("bench.findings", "dlm4j-bench/FINDINGS.md"));
        return Files.exists(f) ? Files.readString(f) : "";
    }

    static Map<String, Object> run(BenchPlan plan, String command) throws Exception {
        long start = System.nanoTime();
        String loadBefore = Environment.loadAverage();
        List<Map<String, Object>> forks = new ArrayList<>();
        try (BenchServers servers = new BenchServers(plan.backends())) {
            for (int rep = 1; rep <= plan.repetitions(); rep++) {
                for (String backend : plan.backends()) {
                    for (BenchPlan.Entry e : BenchPlan.libraries(backend)) {
                        servers.wipe(backend);
                        forks.add(fork(plan.fork(backend, e.library(), e.scenarios(), servers.addresses(backend)), rep));
                    }
                }
            }
            for (String backend : plan.backends()) {
                servers.wipe(backend);
                forks.add(fork(plan.fork(backend, "dlm4j", List.of("refresh"), servers.addresses(backend)), 1));
                servers.wipe(backend);
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", plan.mode());
        r.put("command", command);
        r.put("date", Instant.now().toString());
        r.put("seconds", (System.nanoTime() - start) / 1e9);
        Map<String, Object> p = planDescription(plan);
        p.put("tmpdir", System.getProperty("java.io.tmpdir") + " (the servers' data: etcd fsyncs there)");
        r.put("plan", p);
        Map<String, Object> machine = Environment.machine();
        machine.put("loadAverage", "before " + loadBefore + ", after " + machine.get("loadAverage")
                + " (1, 5, 15 min; other work on the machine skews the numbers)");
        r.put("machine", machine);
        r.put("versions", Environment.versions());
        r.put("summary", Summary.of(forks));
        r.put("forks", forks);
        return r;
    }

    private static Map<String, Object> planDescription(BenchPlan plan) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("repetitions", plan.repetitions());
        p.put("warmupMinSeconds", plan.warmupMin().toMillis() / 1000.0);
        p.put("warmupMaxSeconds", plan.warmupMax().toMillis() / 1000.0);
        p.put("leadInSeconds", plan.leadIn().toMillis() / 1000.0);
        p.put("measureSeconds", plan.measure().toMillis() / 1000.0);
        p.put("costLocks", plan.costLocks());
        p.put("refreshLeases", plan.refreshLeases());
        p.put("refreshTtlSeconds", plan.refreshTtl().toMillis() / 1000.0);
        p.put("refreshWindowSeconds", plan.refreshWindow().toMillis() / 1000.0);
        p.put("lockTtlSeconds", ForkMain.LOCK_TTL.toSeconds());
        p.put("forkJvmOptions", forkJvmOptions());
        return p;
    }

    static List<String> forkJvmOptions() {
        List<String> opts = new ArrayList<>(List.of("-Xms512m", "-Xmx2g", "-XX:+UseG1GC"));
        String extra = System.getenv("BENCH_FORK_OPTS");
        if (extra != null && !extra.isBlank()) {
            opts.addAll(List.of(extra.trim().split("\\s+")));
        }
        return opts;
    }

    /** Runs one fork and returns its JSON result, or a record of its failure (the run goes on). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> fork(ForkMain.ForkSpec spec, int rep) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(forkJvmOptions());
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ForkMain.class.getName());
        cmd.addAll(spec.toArgs());
        System.out.printf("bench: rep %d %-8s %-17s %s%n", rep, spec.backend(), spec.library(), spec.scenarios());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String[] resultHolder = {null};
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith(ForkMain.MARKER)) {
                        resultHolder[0] = line.substring(ForkMain.MARKER.length());
                    } else {
                        synchronized (log) {
                            log.append(line).append('\n');
                            if (log.length() > 40_000) { // keep the end: the failure is printed last
                                log.delete(0, log.length() - 20_000);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                synchronized (log) {
                    log.append("(reading the fork's output failed: ").append(e).append(")\n");
                }
            }
        }, "fork-output");
        reader.start();
        boolean finished = p.waitFor(FORK_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        reader.join(30_000);
        String resultLine = resultHolder[0];
        Map<String, Object> result;
        if (resultLine != null) {
            result = new ObjectMapper().readValue(resultLine, LinkedHashMap.class);
        } else {
            result = new LinkedHashMap<>();
            result.put("backend", spec.backend());
            result.put("library", spec.library());
            result.put("error", "fork exited with " + (!finished ? "a timeout after " + FORK_TIMEOUT_MINUTES + " min"
                    : "code " + p.exitValue())
                    + " and no result; its output:\n" + log);
            result.put("results", List.of());
            System.out.println("bench: FAILED " + spec.backend() + " " + spec.library() + "\n" + log);
        }
        result.put("rep", rep);
        return result;
    }
}
