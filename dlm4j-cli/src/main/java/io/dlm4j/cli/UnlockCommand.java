package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code dlm4j unlock}: releases a stuck lock as its owner. */
@Command(name = "unlock",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Releases a lock as its owner, e.g. one left by a process that can no longer release it.",
        description = {"Prints what happened: 'released: ...', 'not held by OWNER: held by X ...' (left as it is) "
                + "or 'free: ...'.",
                "Exit code 0 if the lock is not held by OWNER afterwards, 1 if it still is, 69 if the backend "
                        + "is unreachable.",
                "A dlm4j run still holding the lock loses it at its next refresh (and stops its program with "
                        + "--kill-on-loss)."})
final class UnlockCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private BackendOptions backend;

    @Option(names = "--key", required = true, paramLabel = "KEY", order = 2, description = "The lock's name.")
    private String key;

    @Option(names = "--owner", required = true, paramLabel = "OWNER", order = 3,
            description = "The owner that holds it; a lock held by another owner is left alone.")
    private String owner;

    @Override
    public Integer call() {
        MutexOptions options;
        try {
            options = MutexOptions.builder(key).owner(owner).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Dlm dlm = backend.open(DlmOptions.builder());
        try {
            Mutex mutex = dlm.newMutex(options);
            Optional<LockInfo> before = mutex.holder();
            if (before.isEmpty()) {
                System.out.println("free: '" + key + "' is not held by anyone");
                return ExitCodes.OK;
            }
            LockInfo holder = before.get();
            if (!holder.owner().equals(owner)) {
                System.out.println("not held by " + owner + ": " + RunCommand.describe(holder) + "; left as it is");
                return ExitCodes.OK;
            }
            mutex.unlock();
            Optional<LockInfo> after = mutex.holder();
            if (after.isPresent() && after.get().owner().equals(owner)) {
                System.out.println("still held by " + owner + ": " + RunCommand.describe(after.get()));
                return ExitCodes.FAILURE;
            }
            System.out.println("released: '" + key + "' was held by " + owner + " (token " + holder.fencingToken() + ")");
            return ExitCodes.OK;
        } finally {
            Commands.closeQuietly(dlm);
        }
    }
}
