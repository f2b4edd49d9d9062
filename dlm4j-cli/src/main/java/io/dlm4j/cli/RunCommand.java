package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockException;
import io.dlm4j.LockInfo;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code dlm4j run}: a program under a lock. */
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

    private final PrintStream err = System.err;

    // ---- state shared with the shutdown hook and the onLost callback, guarded by 'this' ----
    private Thread mainThread;
    private Dlm dlm;
    private Lease lease;
    private Process child;
    private boolean stopping;
    private boolean cleanedUp;
    private volatile boolean lost;

    @Override
    public Integer call() throws Exception {
        if (command.isEmpty()) {
            throw new ParameterException(spec.commandLine(),
                    "missing program: dlm4j run --uri URI --key KEY [options] -- PROGRAM [ARGS...]");
        }
        checkProgram(command.get(0));
        MutexOptions mutexOptions;
        try {
            mutexOptions = MutexOptions.builder(key).owner(owner != null ? owner : DlmOptions.processOwner())
                    .ttl(ttl).autoRefresh(true).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Duration maxWait = waiting == null || waiting.noWait ? null : waiting.maxWait;
        boolean noWait = waiting != null && (waiting.noWait || waiting.maxWait.isZero());
        String uri = backend.uri();

        mainThread = Thread.currentThread();
        Thread hook = new Thread(this::onShutdown, "dlm4j-shutdown");
        synchronized (this) {
            dlm = backend.open(uri, DlmOptions.builder());
        }
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Mutex mutex = dlm.newMutex(mutexOptions);
            Lease acquired = acquire(mutex, noWait, maxWait);
            if (acquired == null) {
                return ExitCodes.NOT_ACQUIRED; // interrupted by a signal: the hook does the rest
            }
            return runProgram(acquired);
        } catch (InterruptedException e) {
            return ExitCodes.NOT_ACQUIRED;
        } catch (RuntimeException e) {
            if (isStopping()) {
                return ExitCodes.NOT_ACQUIRED; // the hook closed the Dlm under us
            }
            throw e;
        } finally {
            cleanUp();
        }
    }

    /** The lease, or null if a signal ended the wait. */
    private Lease acquire(Mutex mutex, boolean noWait, Duration maxWait) throws InterruptedException {
        Optional<Lease> first = mutex.tryLock();
        if (first.isPresent()) {
            return keep(first.get());
        }
        if (noWait) {
            throw notAcquired(mutex, "(--no-wait)");
        }
        long started = System.nanoTime();
        WaitingLine line = quiet ? null : WaitingLine.start(mutex, err);
        Lease acquired;
        try {
            acquired = maxWait == null ? mutex.lock() : mutex.lock(maxWait);
        } catch (LockTimeoutException e) {
            if (line != null) {
                line.stop();
                line = null;
            }
            throw notAcquired(mutex, "within " + Text.duration(maxWait));
        } catch (InterruptedException e) {
            if (isStopping()) {
                return null;
            }
            throw e;
        } finally {
            if (line != null) {
                line.stop();
            }
        }
        if (!quiet) {
            err.printf("dlm4j: acquired '%s' as %s (token %d) after waiting %s%n", key, acquired.owner(),
                    acquired.fencingToken(), Text.remaining(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
        }
        return keep(acquired);
    }

    private synchronized Lease keep(Lease acquired) {
        lease = acquired;
        if (stopping) {
            return null;
        }
        return acquired;
    }

    private CliException notAcquired(Mutex mutex, String how) {
        String holder;
        try {
            holder = mutex.holder().map(RunCommand::describe).orElse("it was just released; try again");
        } catch (LockException e) {
            holder = "its holder is unknown (" + Text.oneLine(e.getMessage()) + ")";
        }
        return new CliException(ExitCodes.NOT_ACQUIRED, "'" + key + "' not acquired " + how + ": " + holder);
    }

    static String describe(LockInfo h) {
        return "held by " + h.owner() + ", token " + h.fencingToken() + ", expires in "
                + Text.remaining(Text.millisUntil(h.expiresAt()));
    }

    private int runProgram(Lease acquired) throws InterruptedException {
        acquired.onLost(() -> onLost(acquired));
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        Map<String, String> env = builder.environment();
        env.put("DLM4J_KEY", acquired.key());
        env.put("DLM4J_OWNER", acquired.owner());
        env.put("DLM4J_FENCING_TOKEN", Long.toString(acquired.fencingToken()));
        Process process;
        synchronized (this) {
            if (stopping || lost) {
                return lost ? ExitCodes.NOT_ACQUIRED : ExitCodes.OK;
            }
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new CliException(ExitCodes.NOT_FOUND, "cannot run '" + command.get(0) + "': "
                        + Text.oneLine(e.getMessage()), e);
            }
            child = process;
        }
        int exit = process.waitFor();
        if (lost && killOnLoss) {
            err.println("dlm4j: the program was stopped because the lock '" + key + "' was lost; its exit code: " + exit);
        }
        return exit;
    }

    private void onLost(Lease lostLease) {
        lost = true;
        if (isStopping()) {
            return;
        }
        err.println("dlm4j: lost the lock '" + key + "' (token " + lostLease.fencingToken() + ")"
                + (killOnLoss ? "; stopping the program (--kill-on-loss)"
                : "; the program goes on (--kill-on-loss would stop it)"));
        if (killOnLoss) {
            Process p;
            synchronized (this) {
                p = child;
            }
            if (p != null) {
                Thread stopper = new Thread(() -> stop(p), "dlm4j-kill-on-loss");
                stopper.setDaemon(true);
                stopper.start();
            }
        }
    }

    /** The shutdown hook: on SIGINT/SIGTERM, or at the normal exit (then it finds nothing to do). */
    private void onShutdown() {
        Process p;
        synchronized (this) {
            if (cleanedUp) {
                return;
            }
            stopping = true;
            p = child;
        }
        if (p == null) {
            mainThread.interrupt(); // ends a wait for the lock
        } else {
            stop(p);
        }
        cleanUp();
    }

    private synchronized boolean isStopping() {
        return stopping;
    }

    /** SIGTERM, then SIGKILL (to it and what it started) after the grace period. */
    private void stop(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                if (!isStopping() || !quiet) {
                    err.println("dlm4j: the program did not exit within " + Text.duration(grace) + " of SIGTERM; "
                            + "sending SIGKILL");
                }
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Releases the lock and closes the Dlm, once; the shutdown hook waits for it if main runs it. */
    private synchronized void cleanUp() {
        if (cleanedUp) {
            return;
        }
        try {
            if (lease != null) {
                try {
                    lease.close();
                } catch (RuntimeException e) {
                    err.println("dlm4j: could not release '" + key + "' (it expires within " + Text.duration(ttl)
                            + "): " + Text.oneLine(e.getMessage()));
                }
            }
            if (dlm != null) {
                try {
                    dlm.close();
                } catch (RuntimeException e) {
                    if (Dlm4jCommand.verbose()) {
                        err.println("dlm4j: closing the backend client failed: " + Text.oneLine(e.getMessage()));
                    }
                }
            }
        } finally {
            cleanedUp = true;
        }
    }

    /** 127 if the program is not found, 126 if it cannot be executed, before taking the lock. */
    static void checkProgram(String program) {
        if (program.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "program '' not found");
        }
        if (program.contains("/")) {
            Path path = Path.of(program);
            if (!Files.exists(path)) {
                throw new CliException(ExitCodes.NOT_FOUND, "program '" + program + "' not found");
            }
            if (Files.isDirectory(path) || !Files.isExecutable(path)) {
                throw new CliException(ExitCodes.CANNOT_EXECUTE, "program '" + program + "' is not executable");
            }
            return;
        }
        String pathVariable = System.getenv("PATH");
        boolean foundButNotExecutable = false;
        for (String dir : (pathVariable == null ? "" : pathVariable).split(File.pathSeparator, -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(program);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return;
                }
                foundButNotExecutable = true;
            }
        }
        if (foundButNotExecutable) {
            throw new CliException(ExitCodes.CANNOT_EXECUTE, "program '" + program + "' is not executable");
        }
        throw new CliException(ExitCodes.NOT_FOUND, "program '" + program + "' not found on PATH");
    }
}
