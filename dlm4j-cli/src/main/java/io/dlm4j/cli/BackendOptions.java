package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;

/** {@code --uri} (or {@code $DLM4J_URI}) and {@code --timeout}, shared by the commands that talk to a backend. */
final class BackendOptions {

    static final String URI_VARIABLE = "DLM4J_URI";

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--uri", paramLabel = "URI", order = 1,
            description = {"The backend: mongodb://host:port/db?collection=locks, redis://host:port, "
                    + "redlock://h1:p1,h2:p2,h3:p3, etcd://host:port, jdbc:postgresql://host:5432/db?user=U&password=P, "
                    + "jdbc:mariadb://host:3306/db?user=U&password=P, jdbc:h2:file:/path/db;AUTO_SERVER=TRUE;WRITE_DELAY=0, "
                    + "jdbc:mysql://... (with MySQL Connector/J on the class path), ... (default: $" + URI_VARIABLE + ")."})
    private String uri;

    @Option(names = "--timeout", paramLabel = "DURATION", order = 90, defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Deadline of one backend operation (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    /** The --uri, or $DLM4J_URI; a usage error if neither is there. */
    String uri() {
        if (uri != null && !uri.isBlank()) {
            Text.hideSecretsOf(uri.strip());
            return uri.strip();
        }
        String fromEnvironment = System.getenv(URI_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            Text.hideSecretsOf(fromEnvironment.strip());
            return fromEnvironment.strip();
        }
        throw new ParameterException(mixee.commandLine(), "missing --uri (or the environment variable "
                + URI_VARIABLE + "), e.g. --uri redis://localhost:6379");
    }

    /** The --uri as given, or null: for commands where it is optional. */
    String explicitUri() {
        if (uri == null || uri.isBlank()) {
            return null;
        }
        Text.hideSecretsOf(uri.strip());
        return uri.strip();
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
        Text.hideSecretsOf(uri);
        DlmOptions built = options.operationTimeout(timeout()).build();
        checkJdbc(uri);
        try {
            return Dlms.fromUri(uri, built);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, Text.oneLine(e.getMessage()), e);
        }
    }

    /** The main class, for the {@code java -cp} line that adds a driver. */
    static final String MAIN_CLASS = "io.dlm4j.cli.Dlm4jCommand";

    /**
     * What dlm4j-jdbc would find out late or unclearly: an unnamed in-memory H2 database (private to
     * each connection of the pool, so nothing would exclude anything) and a JDBC URL whose driver is
     * not on the class path (HikariCP's message would show the URL, password and all).
     */
    static void checkJdbc(String uri) {
        String lower = uri.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("jdbc:")) {
            return;
        }
        if (lower.equals("jdbc:h2:mem:") || lower.startsWith("jdbc:h2:mem:;")) {
            throw new CliException(ExitCodes.USAGE, "an unnamed in-memory H2 database (jdbc:h2:mem:) is private to each "
                    + "connection, so its locks would exclude nothing; name it: jdbc:h2:mem:NAME");
        }
        if (!(lower.startsWith("jdbc:postgresql:") || lower.startsWith("jdbc:mariadb:")
                || lower.startsWith("jdbc:mysql:") || lower.startsWith("jdbc:h2:"))) {
            return; // Dlms.fromUri names the schemes it knows
        }
        try {
            DriverManager.getDriver(uri);
        } catch (SQLException e) {
            if (lower.startsWith("jdbc:mysql:")) {
                throw new CliException(ExitCodes.USAGE, "jdbc:mysql: URLs need MySQL Connector/J, which dlm4j.jar does "
                        + "not bundle (its licence, the GPL, does not allow it): run java -cp dlm4j.jar:"
                        + "mysql-connector-j-9.5.0.jar " + MAIN_CLASS + " ..., or use a jdbc:mariadb:// URL (its "
                        + "driver is bundled)");
            }
            throw new CliException(ExitCodes.USAGE, "no JDBC driver on the class path takes " + Text.redact(uri));
        }
    }
}
