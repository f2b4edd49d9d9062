package io.dlm4j.torture;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes RELIABILITY.md: the table of a run, how it was made, and what each column and fault means. */
final class ReliabilityReport {

    private static final int NOTES_PER_SCENARIO = 8;

    private ReliabilityReport() {
    }

    static String render(List<ScenarioResult> results, Settings settings, String command, long seed,
                         String machine, String date, List<String> violations) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Reliability: dlm4j under faults\n\n");
        sb.append("Measured by the torture harness (module `dlm4j-torture`): worker JVMs take locks on each backend and\n")
                .append("read-modify-write a guarded resource while a nemesis injects faults; a checker reads what happened.\n")
                .append("This file is written by the harness; the findings at the end are kept in\n")
                .append("`dlm4j-torture/src/main/resources/reliability-findings.md`.\n\n");
        sb.append("- Command: `").append(command).append("`\n");
        sb.append("- Date: ").append(date).append('\n');
        sb.append("- Machine: ").append(machine).append('\n');
        sb.append("- Seed: ").append(seed).append(" (it seeds the workers' choice of keys and the nemesis' gaps and picks;\n")
                .append("  which worker a fault hits still depends on timing, so runs differ)\n");
        sb.append("- Per scenario: ").append(settings.workers()).append(" worker JVMs at a time, ").append(settings.keys())
                .append(" keys, at most ").append(settings.opsPerWorker()).append(" acquisitions or ").append(settings.seconds())
                .append(" s per worker, ttl ").append(settings.ttlMillis()).append(" ms without refresh, `lock(")
                .append(settings.maxWaitMillis()).append(" ms)`, operation timeout ").append(settings.operationTimeoutMillis())
                .append(" ms, work inside the critical section 0-").append(settings.workMaxMillis())
                .append(" ms, a fault every ").append(settings.gapMinMillis()).append("-").append(settings.gapMaxMillis())
                .append(" ms (after the previous one healed)\n");
        sb.append("- Must-hold properties: ").append(violations.isEmpty() ? "all kept" : "**broken**: " + String.join("; ", violations))
                .append("\n\n");

        sb.append("| backend | fault | ops | faults injected | overlaps (no fencing) | lost updates (no fencing) "
                + "| stale ops rejected (fencing) | lost updates (fencing) | token order violations | stuck "
                + "| longest lock-to-write (ms) |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ScenarioResult r : results) {
            Findings f = r.findings();
            sb.append("| ").append(r.backend()).append(" | ").append(r.fault().label())
                    .append(" | ").append(f.acquisitions())
                    .append(" | ").append(r.faultsInjected())
                    .append(" | ").append(f.overlaps())
                    .append(" | ").append(f.lostUpdatesUnfenced())
                    .append(" | ").append(f.staleRejected())
                    .append(" | ").append(f.lostUpdatesFenced())
                    .append(" | ").append(f.tokenOrderViolations())
                    .append(MustHold.promisesTokenOrder(r.backend(), r.fault()) ? "" : " (not promised)")
                    .append(" | ").append(r.stuck())
                    .append(" | ").append(f.longestHoldMillis())
                    .append(" |\n");
        }
        sb.append('\n');
        boolean anyRestart = results.stream().anyMatch(r -> r.holdsBeforeRestart() >= 0);
        if (anyRestart) {
            sb.append("Holds across server restarts (the live holds, each a lock with its token and owner, listed on the server\n")
                    .append("just before each kill -9 or clean restart, and how many of those it still had just after the restart;\n")
                    .append("one Redis without persistence comes back empty; for PostgreSQL and MariaDB a hold counts as kept while\n")
                    .append("its key's row still has its token or a later one, expired or not, since a restart takes about a ttl):\n\n");
            for (ScenarioResult r : results) {
                if (r.holdsBeforeRestart() >= 0) {
                    sb.append("- ").append(r.backend()).append(": ").append(r.faultsInjected())
                            .append(r.fault() == Fault.RESTART_SERVER ? " clean restarts, " : " restarts, ")
                            .append(r.holdsBeforeRestart()).append(" live holds before them, ")
                            .append(r.holdsAfterRestart()).append(" of them kept\n");
                }
            }
            sb.append('\n');
        }
        boolean anyNetwork = results.stream().anyMatch(r -> NetworkFault.applies(r.fault()));
        if (anyNetwork) {
            sb.append("Late traffic: what the network faults made late in the loopback proxies, and how many calls gave up\n")
                    .append("(acquisitions and releases that ended `info`: no answer within the operation timeout, or a\n")
                    .append("backend failure); their requests may still have landed, later:\n\n");
            for (ScenarioResult r : results) {
                if (NetworkFault.applies(r.fault())) {
                    sb.append("- ").append(r.backend()).append(" / ").append(r.fault().label()).append(": ")
                            .append(r.faultsInjected()).append(" faults, ").append(r.lateBytes())
                            .append(" bytes late, ").append(r.callsGivenUp()).append(" calls gave up\n");
                }
            }
            sb.append('\n');
        }
        sb.append("## Per scenario\n\nWhat the nemesis did and the first violations of each kind (all of them are in the\n")
                .append("histories under the run's output folder).\n\n");
        for (ScenarioResult r : results) {
            sb.append("- **").append(r.backend()).append(" / ").append(r.fault().label()).append("** (")
                    .append(r.millis() / 1000).append(" s)");
            List<String> notes = r.notes();
            if (notes.isEmpty()) {
                sb.append(": nothing to note\n");
                continue;
            }
            sb.append(":\n");
            for (String n : notes.subList(0, Math.min(NOTES_PER_SCENARIO, notes.size()))) {
                sb.append("  - ").append(n.replace("|", "\\|")).append('\n');
            }
            if (notes.size() > NOTES_PER_SCENARIO) {
                sb.append("  - ... ").append(notes.size() - NOTES_PER_SCENARIO).append(" more\n");
            }
        }
        sb.append('\n').append(resource("reliability-explained.md")).append('\n').append(resource("reliability-findings.md"));
        return sb.toString();
    }

    private static String resource(String name) {
        try (InputStream in = ReliabilityReport.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the torture jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + name, e);
        }
    }
}
