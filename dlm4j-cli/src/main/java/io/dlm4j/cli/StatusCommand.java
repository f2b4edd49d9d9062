package io.dlm4j.cli;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.LockInfo;
import io.dlm4j.MutexOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code dlm4j status}: who holds a lock. */
@Command(name = "status",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Shows who holds a lock, its fencing token and how long it has yet, or that it is free.",
        description = {"Plain: 'KEY: held by OWNER, token N, expires in 12 s' or 'KEY: free'.",
                "JSON: {\"key\":\"k\",\"held\":true,\"owner\":\"pod-3\",\"fencingToken\":41,\"expiresInMillis\":12000} "
                        + "or {\"key\":\"k\",\"held\":false}.",
                "Exit code 0 whether held or free; 69 if the backend is unreachable."})
final class StatusCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private BackendOptions backend;

    @Option(names = "--key", required = true, paramLabel = "KEY", order = 2, description = "The lock's name.")
    private String key;

    @Option(names = "--json", order = 3, description = "Print one JSON object.")
    private boolean json;

    @Override
    public Integer call() {
        validKey(spec, key);
        Optional<LockInfo> holder;
        Dlm dlm = backend.open(DlmOptions.builder());
        try {
            holder = dlm.newMutex(key).holder();
        } finally {
            Commands.closeQuietly(dlm);
        }
        if (json) {
            System.out.println(holder.map(h -> "{\"key\":" + Text.json(key) + ",\"held\":true,\"owner\":"
                            + Text.json(h.owner()) + ",\"fencingToken\":" + h.fencingToken()
                            + ",\"expiresInMillis\":" + Text.millisUntil(h.expiresAt()) + "}")
                    .orElse("{\"key\":" + Text.json(key) + ",\"held\":false}"));
        } else {
            System.out.println(key + ": " + holder.map(RunCommand::describe).orElse("free"));
        }
        return ExitCodes.OK;
    }

    static void validKey(CommandSpec spec, String key) {
        try {
            MutexOptions.builder(key);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
