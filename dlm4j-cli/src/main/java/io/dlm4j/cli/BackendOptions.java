package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;

/** {@code --uri} (or {@code $DLM4J_URI}) and {@code --timeout}, shared by the commands that talk to a backend. */
final class BackendOptions {

    static final String URI_VARIABLE = "DLM4J_URI";

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--uri", paramLabel = "URI", order = 1,
            description = {"The backend: mongodb://host:port/db?collection=locks, redis://host:port, "
                    + "redlock://h1:p1,h2:p2,h3:p3, etcd://host:port, ... (default: $" + URI_VARIABLE + ")."})
    private String uri;

    @Option(names = "--timeout", paramLabel = "DURATION", order = 90, defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Deadline of one backend operation (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    /** The --uri, or $DLM4J_URI; a usage error if neither is there. */
    String uri() {
        if (uri != null && !uri.isBlank()) {
            return uri.strip();
        }
        String fromEnvironment = System.getenv(URI_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.strip();
        }
        throw new ParameterException(mixee.commandLine(), "missing --uri (or the environment variable "
                + URI_VARIABLE + "), e.g. --uri redis://localhost:6379");
    }

    /** The --uri as given, or null: for commands where it is optional. */
    String explicitUri() {
        return uri == null || uri.isBlank() ? null : uri.strip();
    }

    Duration timeout() {
        if (timeout.isZero()) {
            throw new ParameterException(mixee.commandLine(), "--timeout must be positive");
        }
        return timeout;
    }

    /** A Dlm on the backend; an unknown scheme or a malformed URI is a usage error. */
    Dlm open(DlmOptions.Builder options) {
        return open(uri(), options);
    }

    Dlm open(String uri, DlmOptions.Builder options) {
        DlmOptions built = options.operationTimeout(timeout()).build();
        try {
            return Dlms.fromUri(uri, built);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, Text.oneLine(e.getMessage()), e);
        }
    }
}
