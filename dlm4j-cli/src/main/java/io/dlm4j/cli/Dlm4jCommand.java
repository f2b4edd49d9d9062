package io.dlm4j.cli;

import io.dlm4j.LockBackendException;
import io.dlm4j.LockTimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/** The {@code dlm4j} command. */
@Command(name = "dlm4j",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        usageHelpAutoWidth = true,
        header = "Distributed locks from the command line.",
        description = {
                "Runs a program under a distributed lock, shows and releases locks, and checks a backend.",
                "The backend is named by --uri or the environment variable DLM4J_URI.",
                "JDBC URLs use the bundled drivers of PostgreSQL, MariaDB and H2 (their licences: META-INF/licenses/ "
                        + "in the jar). MySQL Connector/J is not bundled: java -cp dlm4j.jar:mysql-connector-j.jar "
                        + "io.dlm4j.cli.Dlm4jCommand ... adds it for jdbc:mysql: URLs.",
                "Durations: 500ms, 30s, 5m, 1h, 1m30s, or ISO-8601 such as PT30S."},
        subcommands = {
                RunCommand.class,
                StatusCommand.class,
                UnlockCommand.class,
                PingCommand.class,
                MongoCommand.class,
                DemoCommand.class,
                CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "  0:success",
                "  1:unlock: the lock is still held by that owner; mongo migrate-index: another index of that name",
                "  2:bad usage or input: missing --uri, unknown scheme, no driver for a JDBC URL, bad duration, no program",
                " 69:the backend is unreachable or failed (EX_UNAVAILABLE)",
                " 70:an internal error of dlm4j (EX_SOFTWARE)",
                " 75:run: lock not acquired within --wait, or at once with --no-wait (EX_TEMPFAIL)",
                "126:run: the program is not executable",
                "127:run: the program was not found",
                "130:dlm4j was interrupted (SIGINT); 143: terminated (SIGTERM)",
                "  *:run: otherwise the program's own exit code"},
        footer = {"%nExamples:",
                "  dlm4j run --uri redis://cache:6379 --key nightly-report -- ./report.sh",
                "  dlm4j run --uri mongodb://db:27017/app --key schema-migration --ttl 1m --wait 10m -- ./migrate.sh",
                "  dlm4j status --uri etcd://etcd:2379 --key nightly-report --json",
                "  dlm4j ping --uri 'jdbc:postgresql://db:5432/app?user=locks&password=...'",
                "  dlm4j run --uri 'jdbc:h2:file:/var/lib/app/locks;AUTO_SERVER=TRUE;WRITE_DELAY=0' --key k -- ./job.sh",
                "  dlm4j mongo migrate-index --uri mongodb://db:27017/app",
                "  dlm4j demo",
                "  dlm4j demo --uri jdbc:h2:mem:demo"})
public final class Dlm4jCommand implements Callable<Integer> {

    private static volatile boolean verbose;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Stack traces with errors, and the client libraries' warnings.")
    void setVerbose(boolean value) {
        // picocli applies the default (false) again for each subcommand: only ever switch it on
        if (value) {
            verbose = true;
        }
    }

    static boolean verbose() {
        return verbose;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: run, status, unlock, ping, mongo or demo");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code; does not exit. */
    static int execute(String... args) {
        verbose = verboseIn(args);
        ScrubbingPrintStream.install();
        configureLogging(verbose);
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            System.err.println("dlm4j: " + Text.oneLine("unexpected error in thread " + thread.getName() + ": " + e));
            if (verbose) {
                e.printStackTrace();
            }
        });
        CommandLine cmd = commandLine();
        return cmd.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Dlm4jCommand());
        cmd.setExpandAtFiles(false);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        // dlm4j run --uri U --key K ./program --its-own-options: everything from PROGRAM on is the program's
        cmd.getSubcommands().get("run").setStopAtPositional(true);
        cmd.setParameterExceptionHandler(Dlm4jCommand::onParameterException);
        cmd.setExecutionExceptionHandler(Dlm4jCommand::onExecutionException);
        return cmd;
    }

    private static int onParameterException(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        err.println("dlm4j: " + Text.oneLine(e.getMessage()) + " (see '" + name + " --help')");
        if (verbose) {
            printStackTrace(e, err);
        }
        err.flush();
        return ExitCodes.USAGE;
    }

    private static int onExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parseResult) {
        int code;
        String message;
        if (e instanceof CliException cli) {
            code = cli.exitCode();
            message = e.getMessage();
        } else if (e instanceof LockBackendException) {
            code = ExitCodes.UNAVAILABLE;
            message = "backend unavailable: " + e.getMessage() + hint(e.getMessage());
        } else if (e instanceof LockTimeoutException) {
            code = ExitCodes.NOT_ACQUIRED;
            message = e.getMessage();
        } else if (e instanceof IllegalArgumentException) {
            code = ExitCodes.USAGE;
            message = e.getMessage();
        } else {
            code = ExitCodes.SOFTWARE;
            message = "internal error: " + e + (verbose ? "" : " (run with --verbose for the stack trace)");
        }
        PrintWriter err = cmd.getErr();
        err.println("dlm4j: " + Text.oneLine(message));
        if (verbose) {
            printStackTrace(e, err);
        }
        err.flush();
        return code;
    }

    /** What to do about a failure whose message alone does not say it. */
    static String hint(String message) {
        if (message != null && message.contains("[90020]")) {
            return " (an H2 file database is open in one process at a time unless every process that shares it "
                    + "adds ;AUTO_SERVER=TRUE to the URL)";
        }
        return "";
    }

    /** A stack trace for --verbose, with the uri's credentials hidden as in every other line. */
    private static void printStackTrace(Throwable e, PrintWriter err) {
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        err.print(Text.scrub(trace.toString()));
    }

    /** -v or --verbose before the program's arguments ("--" or the first word after "run"'s options). */
    private static boolean verboseIn(String[] args) {
        for (String arg : args) {
            if (arg.equals("--")) {
                return false;
            }
            if (arg.equals("-v") || arg.equals("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Quiet by default: the drivers' logs (slf4j-simple, and java.util.logging for grpc) are off;
     * with --verbose they show warnings.
     */
    private static void configureLogging(boolean verbose) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "warn" : "off");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        if (verbose) {
            java.util.logging.ConsoleHandler handler = new java.util.logging.ConsoleHandler();
            handler.setLevel(Level.WARNING);
            root.addHandler(handler);
            root.setLevel(Level.WARNING);
        } else {
            root.setLevel(Level.OFF);
        }
    }

    /** The version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties properties = new Properties();
            try (InputStream in = Dlm4jCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            } catch (IOException e) {
                // fall through to "unknown"
            }
            return new String[] {"dlm4j " + properties.getProperty("version", "unknown"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
