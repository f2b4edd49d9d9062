package io.dlm4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The machine and the versions a run measured, for BENCHMARKS.md. */
final class Environment {

    /** Artifacts whose version the report names, found by jar name on the class path. */
    private static final List<String> ARTIFACTS = List.of("lettuce-core", "redisson", "jetcd-core", "mongodb-driver-sync",
            "mongo-java-server", "shedlock-core", "shedlock-provider-mongo", "netty-common", "grpc-core", "shedlock-provider-jdbc-template",
            "spring-integration-jdbc", "spring-jdbc", "HikariCP", "postgresql", "mariadb-java-client");

    private Environment() {
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("processors", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpuModel());
        m.put("memoryGiB", memoryGiB());
        m.put("loadAverage", loadAverage());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vendor") + ")");
        return m;
    }

    static Map<String, Object> versions() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("dlm4j", "0.1.0-SNAPSHOT (" + run("git", "rev-parse", "--short", "HEAD") + ")");
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String file = Path.of(entry).getFileName().toString();
            for (String artifact : ARTIFACTS) {
                Matcher m = Pattern.compile("^" + Pattern.quote(artifact) + "-(\\d[^/]*)\\.jar$").matcher(file);
                if (m.matches()) {
                    v.put(artifact, m.group(1));
                }
            }
        }
        v.put("redis-server", run("redis-server", "--version"));
        v.put("etcd", run("etcd", "--version").lines().findFirst().orElse("?"));
        v.put("postgres-server", run("postgres", "--version"));
        v.put("mariadb-server", run(Files.isExecutable(Path.of("/usr/sbin/mariadbd")) ? "/usr/sbin/mariadbd" : "mariadbd",
                "--version"));
        return v;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException e) {
            return "? (" + e.getMessage() + ")";
        }
    }

    /** The 1, 5 and 15 minute load averages: other work on the machine skews the numbers. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String memoryGiB() {
        try {
            String total = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\D", "");
            return String.format("%.1f", Long.parseLong(total) / 1024.0 / 1024.0);
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "? (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }
}
