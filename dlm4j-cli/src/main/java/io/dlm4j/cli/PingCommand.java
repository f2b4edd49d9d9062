package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.LockBackendException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code dlm4j ping}: a round trip to the backend. */
@Command(name = "ping",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Measures a round trip to the backend, or shows why it cannot be reached.",
        description = {"Pings four times: the first includes connecting; the round trip shown is the fastest of "
                + "the other three.",
                "JSON: {\"uri\":\"redis://host:6379\",\"ok\":true,\"roundTripMillis\":0.41,\"firstMillis\":35.2} or "
                        + "{\"uri\":\"...\",\"ok\":false,\"error\":\"...\"}.",
                "Exit code 0 if it answers, 69 if not."})
final class PingCommand implements Callable<Integer> {

    private static final int PINGS = 3;

    @Mixin
    private BackendOptions backend;

    @Option(names = "--json", order = 3, description = "Print one JSON object (also when the backend fails).")
    private boolean json;

    @Override
    public Integer call() {
        String uri = backend.uri();
        Duration first;
        Duration best = null;
        Dlm dlm = backend.open(uri, DlmOptions.builder());
        try {
            long start = System.nanoTime();
            dlm.ping();
            first = Duration.ofNanos(System.nanoTime() - start);
            for (int i = 0; i < PINGS; i++) {
                Duration rtt = dlm.ping();
                if (best == null || rtt.compareTo(best) < 0) {
                    best = rtt;
                }
            }
        } catch (LockBackendException e) {
            if (json) {
                System.out.println("{\"uri\":" + Text.json(Text.redact(uri)) + ",\"ok\":false,\"error\":"
                        + Text.json(Text.oneLine(e.getMessage())) + "}");
                return ExitCodes.UNAVAILABLE;
            }
            throw e;
        } finally {
            Commands.closeQuietly(dlm);
        }
        if (json) {
            System.out.println("{\"uri\":" + Text.json(Text.redact(uri)) + ",\"ok\":true,\"roundTripMillis\":"
                    + Text.millis(best) + ",\"firstMillis\":" + Text.millis(first) + "}");
        } else {
            System.out.println("ok: " + Text.redact(uri) + " answered in " + Text.millis(best) + " ms (first call, "
                    + "with connecting: " + Text.millis(first) + " ms)");
        }
        return ExitCodes.OK;
    }
}
