package io.dlm4j.torture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs the checker again on a scenario's folder (its histories, resource log and list of killed
 * workers), e.g. after changing the checker:
 * <pre>
 * java -cp CLASSPATH io.dlm4j.torture.Check dlm4j-torture/target/torture/redis-pause-holder [stuckBoundMillis]
 * </pre>
 */
public final class Check {

    static final String RESOURCE_LOG = "resource.jsonl";
    static final String KILLED = "killed.txt";
    private static final String HISTORY_SUFFIX = ".history.jsonl";

    private Check() {
    }

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: Check SCENARIO_FOLDER [stuckBoundMillis]");
            System.exit(2);
        }
        long bound = args.length == 2 ? Long.parseLong(args[1]) : Settings.full().stuckBound().toMillis();
        Findings f = check(Paths.get(args[0]), bound);
        System.out.println(f.acquisitions() + " ok acquisitions, " + f.overlaps() + " overlaps, "
                + f.lostUpdatesUnfenced() + " lost unfenced, " + f.staleRejected() + " stale rejected, "
                + f.lostUpdatesFenced() + " lost fenced, " + f.tokenOrderViolations() + " token order, "
                + f.stuck() + " stuck, longest lock-to-write " + f.longestHoldMillis() + " ms");
        f.examples().forEach(e -> System.out.println("  " + e));
    }

    static Findings check(Path folder, long stuckBoundMillis) {
        try {
            List<HistoryEvent> history = new ArrayList<>();
            try (Stream<Path> files = Files.list(folder)) {
                for (Path p : files.filter(p -> p.getFileName().toString().endsWith(HISTORY_SUFFIX)).toList()) {
                    history.addAll(HistoryEvent.readAll(p));
                }
            }
            List<ResourceOp> log = new ArrayList<>();
            for (String line : Files.readAllLines(folder.resolve(RESOURCE_LOG))) {
                if (!line.isBlank()) {
                    log.add(ResourceOp.fromJson(line));
                }
            }
            Path killedFile = folder.resolve(KILLED);
            Set<String> killed = Files.exists(killedFile) ? new HashSet<>(Files.readAllLines(killedFile)) : Set.of();
            return new Checker(stuckBoundMillis * 1_000_000).check(history, log, killed);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the scenario folder " + folder, e);
        }
    }
}
