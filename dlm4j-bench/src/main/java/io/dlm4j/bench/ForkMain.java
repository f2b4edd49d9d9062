package io.dlm4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One forked JVM: one library on one backend, warmed up until the JIT goes quiet, then the given
 * scenarios one after another. Prints its results as one JSON line starting with {@link #MARKER}.
 */
public final class ForkMain {

    static final String MARKER = "BENCH-RESULT ";
    static final Duration LOCK_TTL = Duration.ofSeconds(30);

    private ForkMain() {
    }

    /** Arguments {@code name=value}; see {@link ForkSpec#toArgs()}. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments must be name=value, was '" + arg + "'");
            }
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Map<String, Object> result;
        try {
            result = run(ForkSpec.fromArgs(a), false);
        } catch (Throwable e) {
            // A library's non-daemon threads (Redisson's) would keep this JVM alive after main ends.
            System.out.println("fork failed: " + e);
            e.printStackTrace(System.out);
            System.out.flush();
            Runtime.getRuntime().halt(1);
            return;
        }
        System.out.println(MARKER + new ObjectMapper().writeValueAsString(result));
        System.out.flush();
        if (Boolean.getBoolean("bench.exit")) {
            System.exit(0); // runs the shutdown hooks, e.g. to write a flight recording
        }
        // Libraries' non-daemon threads (and held refresh leases) are not waited for.
        Runtime.getRuntime().halt(0);
    }

    /**
     * Runs the fork's scenarios in this JVM (the smoke test calls this directly). With {@code close}
     * false the clients are left open: a forked JVM halts after printing, and closing 10,000 held
     * leases would release them one by one first.
     */
    static Map<String, Object> run(ForkSpec spec, boolean close) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("backend", spec.backend());
        out.put("library", spec.library());
        List<Map<String, Object>> results = new ArrayList<>();
        ServerCounter counter = counter(spec);
        LockClient client = null;
        try {
            client = client(spec, counter);
            Runnable stop = Scenarios.backgroundLoad(client, 2, "warm");
            Duration warm;
            try {
                warm = Warmup.untilJitQuiet(spec.warmupMin(), spec.warmupMax());
            } finally {
                stop.run();
            }
            out.put("warmupSeconds", warm.toMillis() / 1000.0);
            Scenarios.Timing timing = new Scenarios.Timing(spec.leadIn(), spec.measure());
            for (String scenario : spec.scenarios()) {
                long t0 = System.nanoTime();
                Map<String, Object> r;
                try {
                    r = scenario(spec, client, counter, timing, scenario);
                } catch (Exception e) {
                    // One scenario failing (a peer giving up under load) keeps the others' results.
                    java.io.StringWriter trace = new java.io.StringWriter();
                    e.printStackTrace(new java.io.PrintWriter(trace));
                    String text = trace.toString();
                    r = new LinkedHashMap<>();
                    r.put("scenario", scenario);
                    r.put("error", text.length() > 4000 ? text.substring(0, 4000) : text);
                }
                r.put("wallSeconds", (System.nanoTime() - t0) / 1e9);
                results.add(r);
            }
        } finally {
            if (close) {
                try (ServerCounter c = counter; LockClient l = client) {
                    // closed in reverse order
                }
            }
        }
        out.put("results", results);
        return out;
    }

    private static Map<String, Object> scenario(ForkSpec spec, LockClient client, ServerCounter counter,
                                                Scenarios.Timing timing, String scenario) throws Exception {
        return switch (scenario) {
            case "u1" -> Scenarios.uncontended(client, counter, 1, timing, scenario);
            case "u8" -> Scenarios.uncontended(client, counter, 8, timing, scenario);
            case "c4" -> Scenarios.contended(client, counter, 4, timing, scenario, false);
            case "c16" -> Scenarios.contended(client, counter, 16, timing, scenario, false);
            case "h4" -> Scenarios.contended(client, counter, 4, timing, scenario, true);
            case "cost" -> Scenarios.cost(client, counter, spec.costLocks(), scenario);
            case "refresh" -> {
                if (!(client instanceof DlmClient dlm)) {
                    throw new IllegalArgumentException("scenario refresh is for library dlm4j only, was " + spec.library());
                }
                yield Scenarios.refresh(dlm.dlm(), counter, spec.refreshLeases(), spec.refreshTtl(),
                        spec.refreshWindow(), scenario);
            }
            default -> throw new IllegalArgumentException("scenario must be one of u1, u8, c4, c16, h4, cost, refresh, "
                    + "was '" + scenario + "'");
        };
    }

    private static ServerCounter counter(ForkSpec spec) {
        return switch (spec.backend()) {
            case "redis", "redlock" -> new ServerCounter.Redis(spec.servers());
            case "etcd" -> new ServerCounter.Etcd(spec.servers().get(0));
            case "mongo" -> new ServerCounter.Mongo();
            case "postgres", "mariadb" -> new JdbcCounter(spec.backend(), spec.servers(),
                    JdbcLibraries.urlParameters(spec.backend(), spec.library()));
            default -> throw new IllegalArgumentException("backend must be one of redis, redlock, etcd, mongo, postgres, mariadb, was '"
                    + spec.backend() + "'");
        };
    }

    private static LockClient client(ForkSpec spec, ServerCounter counter) throws Exception {
        return switch (spec.backend()) {
            case "redis", "redlock" -> RedisLibraries.create(spec.library(), spec.servers(), LOCK_TTL);
            case "etcd" -> EtcdLibraries.create(spec.library(), spec.servers(), LOCK_TTL);
            case "mongo" -> {
                ServerCounter.Mongo listener = (ServerCounter.Mongo) counter;
                MongoClient mongo = MongoClients.create(MongoClientSettings.builder()
                        .applyConnectionString(new ConnectionString("mongodb://" + spec.servers().get(0)))
                        .addCommandListener(listener)
                        .build());
                listener.attach(mongo);
                yield MongoLibraries.create(spec.library(), mongo, LOCK_TTL);
            }
            case "postgres", "mariadb" -> JdbcLibraries.create(spec.library(), (JdbcCounter) counter, LOCK_TTL);
            default -> throw new IllegalArgumentException("backend must be one of redis, redlock, etcd, mongo, postgres, mariadb, was '"
                    + spec.backend() + "'");
        };
    }

    /** What one fork runs. */
    record ForkSpec(String backend, String library, List<String> servers, List<String> scenarios,
                    Duration warmupMin, Duration warmupMax, Duration leadIn, Duration measure,
                    int costLocks, int refreshLeases, Duration refreshTtl, Duration refreshWindow) {

        List<String> toArgs() {
            return List.of("backend=" + backend, "library=" + library, "servers=" + String.join(",", servers),
                    "scenarios=" + String.join(",", scenarios), "warmupMinMs=" + warmupMin.toMillis(),
                    "warmupMaxMs=" + warmupMax.toMillis(), "leadInMs=" + leadIn.toMillis(),
                    "measureMs=" + measure.toMillis(), "costLocks=" + costLocks, "refreshLeases=" + refreshLeases,
                    "refreshTtlMs=" + refreshTtl.toMillis(), "refreshWindowMs=" + refreshWindow.toMillis());
        }

        static ForkSpec fromArgs(Map<String, String> a) {
            return new ForkSpec(req(a, "backend"), req(a, "library"), Arrays.asList(req(a, "servers").split(",")),
                    Arrays.asList(req(a, "scenarios").split(",")), ms(a, "warmupMinMs"), ms(a, "warmupMaxMs"),
                    ms(a, "leadInMs"), ms(a, "measureMs"), Integer.parseInt(req(a, "costLocks")),
                    Integer.parseInt(req(a, "refreshLeases")), ms(a, "refreshTtlMs"), ms(a, "refreshWindowMs"));
        }

        private static String req(Map<String, String> a, String name) {
            String v = a.get(name);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("argument " + name + " is required");
            }
            return v;
        }

        private static Duration ms(Map<String, String> a, String name) {
            return Duration.ofMillis(Long.parseLong(req(a, name)));
        }
    }
}
