package io.dlm4j.cli;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.ReplaceOptions;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockException;
import io.dlm4j.Mutex;
import io.dlm4j.mongo.MongoDlm;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static com.mongodb.client.model.Filters.eq;

/**
 * {@code dlm4j demo}: instances of one app start at once and each wants to run the schema migration
 * before it serves traffic. The lock makes them take turns: the first runs it, the others wait, then
 * see it done and skip. The instances are threads of this JVM, each with its own client and Dlm, as
 * separate pods would have.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = Dlm4jCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Shows app instances racing to run one migration under a lock.",
        description = {"Without --uri it runs on an embedded MongoDB wire-protocol server in this process "
                + "(nothing to install) and records the migration in a MongoDB collection.",
                "With --uri it runs on that backend, under the key '" + DemoCommand.KEY_ON_BACKEND
                        + "'; the 'migration done' record is then kept in memory, shared by the instances "
                        + "(threads of this process). The demo does not read $DLM4J_URI."})
final class DemoCommand implements java.util.concurrent.Callable<Integer> {

    static final String KEY_EMBEDDED = "schema-migration";
    static final String KEY_ON_BACKEND = "dlm4j-demo-schema-migration";
    private static final String MIGRATION = "2026-11-26-add-invoice-index";
    private static final Duration MIGRATION_TAKES = Duration.ofMillis(1200);
    private static final Duration TTL = Duration.ofSeconds(10);
    private static final Duration MAX_WAIT = Duration.ofMinutes(1);

    @Spec
    private CommandSpec spec;

    @Mixin
    private BackendOptions backend;

    @Option(names = "--instances", paramLabel = "N", order = 2, defaultValue = "5",
            description = "How many app instances start at once, 1 to 50 (default: ${DEFAULT-VALUE}).")
    private int instances;

    private final PrintStream out = System.out;
    private final Timeline timeline = new Timeline(out);
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

    /** Where the instances find out whether the migration ran already. */
    private interface MigrationRecord {
        /** "pod-3 under token 41", or null if not done. */
        String doneBy();

        void markDone(String pod, long token);
    }

    /** A pod: its own Dlm, the record of done migrations, and what closes with it (the Dlm, a client). */
    private record Pod(Dlm dlm, MigrationRecord record, Runnable closer) implements AutoCloseable {
        @Override
        public void close() {
            closer.run();
        }
    }

    @FunctionalInterface
    private interface PodFactory {
        Pod open(String pod);
    }

    @Override
    public Integer call() throws InterruptedException {
        if (instances < 1 || instances > 50) {
            throw new ParameterException(spec.commandLine(), "--instances must be from 1 to 50, was " + instances);
        }
        String uri = backend.explicitUri();
        if (uri == null) {
            return onEmbeddedMongo();
        }
        return onBackend(uri);
    }

    private int onEmbeddedMongo() throws InterruptedException {
        try (EmbeddedMongoServer server = EmbeddedMongoServer.start()) {
            out.println("dlm4j demo: " + instances + " app instances start at once against an embedded MongoDB "
                    + "wire-protocol server at " + server.hostAndPort() + ";");
            out.println("each wants to run migration " + MIGRATION + " under lock '" + KEY_EMBEDDED + "', "
                    + "and records it in the collection app.migrations when done.");
            out.println();
            return race(KEY_EMBEDDED, pod -> mongoPod(server.connectionString(), pod));
        }
    }

    private Pod mongoPod(String uri, String pod) {
        MongoClient client = MongoClients.create(uri);
        Dlm dlm = MongoDlm.create(client.getDatabase("app").getCollection(MongoDlm.DEFAULT_COLLECTION), options(pod));
        MongoCollection<Document> migrations = client.getDatabase("app").getCollection("migrations");
        MigrationRecord record = new MigrationRecord() {
            @Override
            public String doneBy() {
                Document done = migrations.find(eq("_id", MIGRATION)).first();
                return done == null ? null : done.getString("by") + " under token " + done.getLong("token");
            }

            @Override
            public void markDone(String by, long token) {
                migrations.replaceOne(eq("_id", MIGRATION),
                        new Document("_id", MIGRATION).append("by", by).append("token", token),
                        new ReplaceOptions().upsert(true));
            }
        };
        return new Pod(dlm, record, () -> {
            try {
                dlm.close();
            } finally {
                client.close();
            }
        });
    }

    private int onBackend(String uri) throws InterruptedException {
        BackendOptions.checkJdbc(uri); // once, not in every instance
        Map<String, String> done = new ConcurrentHashMap<>();
        MigrationRecord record = new MigrationRecord() {
            @Override
            public String doneBy() {
                return done.get(MIGRATION);
            }

            @Override
            public void markDone(String pod, long token) {
                done.put(MIGRATION, pod + " under token " + token);
            }
        };
        out.println("dlm4j demo: " + instances + " app instances start at once against " + Text.redact(uri) + ";");
        out.println("each wants to run migration " + MIGRATION + " under lock '" + KEY_ON_BACKEND + "'.");
        out.println("The 'migration done' record is kept in this process's memory, shared by the instances "
                + "(they are threads here); each has its own Dlm and client.");
        if (uri.toLowerCase(java.util.Locale.ROOT).startsWith("jdbc:h2:mem:")) {
            out.println("The lock table is in an in-memory H2 database of this process: the instances share it "
                    + "(one JVM, one database of that name, each instance with its own pool); no other process sees it.");
        }
        out.println();
        return race(KEY_ON_BACKEND, pod -> {
            Dlm dlm = backend.open(uri, DlmOptions.builder().defaultOwner(pod).defaultTtl(TTL));
            return new Pod(dlm, record, dlm::close);
        });
    }

    private static DlmOptions options(String pod) {
        return DlmOptions.builder().defaultOwner(pod).defaultTtl(TTL).build();
    }

    private int race(String key, PodFactory pods) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 1; i <= instances; i++) {
            String pod = "pod-" + i;
            Thread thread = new Thread(() -> startUp(pod, key, pods, start), pod);
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        RuntimeException failed = failure.get();
        if (failed != null) {
            throw failed;
        }
        out.println();
        out.println("One instance ran the migration; the others waited for its lock and skipped it. "
                + "Tokens only go up.");
        return ExitCodes.OK;
    }

    private void startUp(String pod, String key, PodFactory pods, CountDownLatch start) {
        try (Pod instance = pods.open(pod)) {
            Mutex mutex = instance.dlm().newMutex(key);
            start.await();
            Optional<Lease> first = mutex.tryLock();
            if (first.isEmpty()) {
                mutex.holder().ifPresent(h -> timeline.say(pod, "waits: held by " + h.owner() + " (token "
                        + h.fencingToken() + ", expires in "
                        + Math.max(0, Duration.between(Instant.now(), h.expiresAt()).toMillis()) + " ms)"));
            }
            try (Lease lease = first.isPresent() ? first.get() : mutex.lock(MAX_WAIT)) {
                timeline.say(pod, "acquired the lock, fencing token " + lease.fencingToken());
                String doneBy = instance.record().doneBy();
                if (doneBy != null) {
                    timeline.say(pod, "skips: already applied by " + doneBy);
                } else {
                    timeline.say(pod, "runs migration " + MIGRATION + " ...");
                    Thread.sleep(MIGRATION_TAKES.toMillis()); // the migration's work
                    instance.record().markDone(pod, lease.fencingToken());
                    timeline.say(pod, "finished the migration");
                }
            }
            timeline.say(pod, "released the lock and serves traffic");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (LockException | CliException e) {
            failure.compareAndSet(null, e);
            timeline.say(pod, "failed: " + Text.oneLine(e.getMessage()));
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            timeline.say(pod, "failed: " + Text.oneLine(String.valueOf(e)));
        }
    }

    /** Prints events with the time since the demo started. */
    private static final class Timeline {
        private final long startNanos = System.nanoTime();
        private final PrintStream out;

        Timeline(PrintStream out) {
            this.out = out;
        }

        synchronized void say(String pod, String event) {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            out.printf("%7.3f s  %-6s %s%n", seconds, pod, event);
        }
    }
}
