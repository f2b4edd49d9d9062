package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.LockInfo;
import io.dlm4j.MutexOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code dlm4j run}: a program under a lock. This class is the command line (its options, their
 * help and their checks); {@link SupervisedRun} is the run itself.
 */
@Command(name = "run",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Runs a program while holding a lock.",
        description = {
                "Acquires KEY (waiting for it if another owner holds it), runs PROGRAM with its standard input "
                        + "and output, refreshes the lock while it runs, releases it when the program ends and "
                        + "exits with the program's exit code.",
                "The program gets DLM4J_KEY, DLM4J_OWNER and DLM4J_FENCING_TOKEN in its environment.",
                "SIGINT and SIGTERM are passed on to the program (SIGTERM; SIGKILL after --grace); "
                        + "then the lock is released.",
                "While it waits, a line on stderr tells who holds the lock and for how long yet."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "  *:the program's own exit code",
                "  2:bad usage or input (missing --uri, unknown scheme, bad duration, no program)",
                " 69:the backend is unreachable or failed",
                " 75:lock not acquired within --wait, or at once with --no-wait",
                "126:the program is not executable",
                "127:the program was not found",
                "130:dlm4j was interrupted (SIGINT); 143: terminated (SIGTERM)"})
final class RunCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private BackendOptions backend;

    @Option(names = "--key", required = true, paramLabel = "KEY", order = 2, description = "The lock's name.")
    private String key;

    @Option(names = "--owner", paramLabel = "OWNER", order = 3,
            description = "Who holds the lock (default: HOST:PID, this host's name and dlm4j's process id, so that "
                    + "two runs on one host exclude each other as flock(1) does). Runs that pass the same --owner "
                    + "share one hold on purpose: the second relocks the first's hold and runs at once.")
    private String owner;

    @Option(names = "--ttl", paramLabel = "DURATION", order = 4, defaultValue = "30s", converter = DurationConverter.class,
            description = "How long a hold lasts without refresh; refreshed every third of it while the program "
                    + "runs, so a killed dlm4j frees the lock after at most this long (default: ${DEFAULT-VALUE}).")
    private Duration ttl;

    @ArgGroup(exclusive = true, multiplicity = "0..1", order = 5)
    private Waiting waiting;

    static final class Waiting {
        @Option(names = "--wait", order = 5, paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Wait at most this long for the lock (default: as long as it takes).")
        Duration maxWait;

        @Option(names = "--no-wait", order = 6, description = "Do not wait: exit 75 at once if the lock is held.")
        boolean noWait;
    }

    @Option(names = {"-q", "--quiet"}, order = 7, description = "No line on stderr while waiting.")
    private boolean quiet;

    @Option(names = "--kill-on-loss", order = 8,
            description = "Stop the program (SIGTERM, SIGKILL after --grace) if the lock is lost while it runs. "
                    + "Without it, dlm4j only says so on stderr.")
    private boolean killOnLoss;

    @Option(names = "--grace", paramLabel = "DURATION", order = 9, defaultValue = "10s",
            converter = DurationConverter.class,
            description = "How long the program has to exit after SIGTERM before SIGKILL (default: ${DEFAULT-VALUE}).")
    private Duration grace;

    @Parameters(paramLabel = "PROGRAM", arity = "0..*",
            description = "The program and its arguments, best after --.")
    private List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        RunSettings settings = settings();
        Dlm dlm = backend.open(DlmOptions.builder()); // after the settings: a bad program or ttl is reported first
        SupervisedRun run = new SupervisedRun(dlm, settings, System.err);
        Runtime.getRuntime().addShutdownHook(new Thread(run::onShutdown, "dlm4j-shutdown"));
        return run.run();
    }

    /** The options, checked in the order that decides which error a bad command line gets. */
    RunSettings settings() {
        if (command.isEmpty()) {
            throw new ParameterException(spec.commandLine(),
                    "missing program: dlm4j run --uri URI --key KEY [options] -- PROGRAM [ARGS...]");
        }
        ProgramLookup.check(command.get(0));
        MutexOptions lock;
        try {
            lock = MutexOptions.builder(key).owner(owner != null ? owner : DlmOptions.processOwner())
                    .ttl(ttl).autoRefresh(true).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Duration maxWait = waiting == null || waiting.noWait ? null : waiting.maxWait;
        boolean noWait = waiting != null && (waiting.noWait || waiting.maxWait.isZero());
        return new RunSettings(lock, noWait, maxWait, quiet, killOnLoss, grace, command);
    }

    /** A holder in one phrase, for the lines of run, status and unlock. */
    static String describe(LockInfo h) {
        return "held by " + h.owner() + ", token " + h.fencingToken() + ", expires in "
                + Text.remaining(Text.millisUntil(h.expiresAt()));
    }
}
