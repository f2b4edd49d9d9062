package io.dlm4j.cli;

import io.dlm4j.mongo.MongoMaintenance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dlm4j mongo}: upkeep of a MongoDB lock collection. */
@Command(name = "mongo",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        usageHelpAutoWidth = true,
        header = "Upkeep of a MongoDB lock collection: prune old lock documents, migrate the index.",
        subcommands = {MongoCommand.Prune.class, MongoCommand.MigrateIndex.class})
final class MongoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: prune or migrate-index");
    }

    /** The maintenance of the --uri's collection; a URI of another backend is a usage error. */
    static MongoMaintenance open(CommandSpec spec, BackendOptions backend) {
        String uri = backend.uri();
        String scheme = uri.toLowerCase(Locale.ROOT);
        if (!scheme.startsWith("mongodb://") && !scheme.startsWith("mongodb+srv://")) {
            throw new ParameterException(spec.commandLine(),
                    "--uri must be a mongodb:// or mongodb+srv:// URI, not " + Text.redact(uri));
        }
        try {
            return MongoMaintenance.fromUri(uri, backend.timeout());
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, Text.oneLine(e.getMessage()), e);
        }
    }

    @Command(name = "prune",
            mixinStandardHelpOptions = true,
            versionProvider = Dlm4jCommand.Version.class,
            sortOptions = false,
            usageHelpAutoWidth = true,
            header = "Deletes the lock documents whose expiry passed longer ago than --grace.",
            description = {"One delete whose filter is that condition, judged by the server's clock: a live hold, "
                    + "also one the Go mongolock package took over, is never deleted. Every Dlm does this by "
                    + "itself every 10 minutes with a grace of 1h.",
                    "JSON: {\"ok\":true,\"deleted\":3,\"graceSeconds\":3600}.",
                    "Exit code 0 on success, 69 if the backend is unreachable."})
    static final class Prune implements Callable<Integer> {

        @Spec
        private CommandSpec spec;

        @Mixin
        private BackendOptions backend;

        @Option(names = "--grace", paramLabel = "DURATION", order = 2, defaultValue = "1h",
                converter = DurationConverter.class,
                description = "Keep documents whose expiry passed less than this long ago (default: ${DEFAULT-VALUE}); "
                        + "more than the clock skew of any Go client on the collection.")
        private Duration grace;

        @Option(names = "--json", order = 3, description = "Print one JSON object.")
        private boolean json;

        @Override
        public Integer call() {
            try (MongoMaintenance maintenance = open(spec, backend)) {
                long deleted = maintenance.prune(grace);
                if (json) {
                    System.out.println("{\"ok\":true,\"deleted\":" + deleted + ",\"graceSeconds\":" + grace.toSeconds() + "}");
                } else {
                    System.out.println("pruned: " + deleted + " lock document" + (deleted == 1 ? "" : "s")
                            + " expired over " + Text.duration(grace) + " ago from " + maintenance.describe());
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "migrate-index",
            mixinStandardHelpOptions = true,
            versionProvider = Dlm4jCommand.Version.class,
            sortOptions = false,
            usageHelpAutoWidth = true,
            header = "Replaces the TTL index expired_locks of earlier dlm4j versions by the Go package's {expiry: 1}.",
            description = {"A TTL expired_locks makes the Go mongolock package's NewDlm fail on the collection, and "
                    + "deletes documents by expiry alone. This drops it and creates {expiry: 1} named expired_locks "
                    + "without expireAfterSeconds; it creates the index if there is none and leaves the Go "
                    + "package's as it is. Running Dlms need no restart.",
                    "Exit code 0 on success, 1 if an index of that name is on other keys (left as it is), "
                            + "69 if the backend is unreachable."})
    static final class MigrateIndex implements Callable<Integer> {

        @Spec
        private CommandSpec spec;

        @Mixin
        private BackendOptions backend;

        @Override
        public Integer call() {
            try (MongoMaintenance maintenance = open(spec, backend)) {
                MongoMaintenance.CleanupIndex outcome;
                try {
                    outcome = maintenance.migrateCleanupIndex();
                } catch (IllegalStateException e) {
                    System.out.println("left as it is: " + Text.oneLine(e.getMessage()));
                    return ExitCodes.FAILURE;
                }
                String where = maintenance.describe();
                System.out.println(switch (outcome) {
                    case REPLACED_TTL_INDEX -> "replaced: the TTL index expired_locks of " + where
                            + " is now the Go package's {expiry: 1}";
                    case CREATED -> "created: the index expired_locks {expiry: 1} of " + where;
                    case ALREADY_THERE -> "ok: the index expired_locks of " + where + " is the Go package's already";
                });
            }
            return ExitCodes.OK;
        }
    }
}
