package io.dlm4j.demo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.ReplaceOptions;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.Mutex;
import io.dlm4j.mongo.MongoDlm;
import io.dlm4j.testkit.EmbeddedMongoServer;
import org.bson.Document;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import static com.mongodb.client.model.Filters.eq;

/**
 * Five instances of one app start at once and each wants to run the schema migration before it
 * serves traffic. The lock makes them take turns: the first runs it, the others wait, then see it
 * done and skip. Everything runs in this JVM against an embedded MongoDB wire-protocol server, each
 * instance with its own client and Dlm, as separate pods would.
 */
public final class MigrationDemo {

    private static final String LOCK = "schema-migration";
    private static final String MIGRATION = "2026-11-26-add-invoice-index";
    private static final Duration MIGRATION_TAKES = Duration.ofMillis(1200);

    private final Timeline timeline = new Timeline();
    private final String uri;

    private MigrationDemo(String uri) {
        this.uri = uri;
    }

    public static void main(String[] args) throws Exception {
        int instances = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        try (EmbeddedMongoServer server = EmbeddedMongoServer.start()) {
            System.out.println("dlm4j demo: " + instances + " app instances start at once against the MongoDB "
                    + "wire server at " + server.hostAndPort() + ";");
            System.out.println("each wants to run migration " + MIGRATION + " under lock '" + LOCK + "'.");
            System.out.println();
            new MigrationDemo(server.connectionString()).run(instances);
        }
    }

    private void run(int instances) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> pods = new ArrayList<>();
        for (int i = 1; i <= instances; i++) {
            String pod = "pod-" + i;
            Thread thread = new Thread(() -> startUp(pod, start), pod);
            thread.start();
            pods.add(thread);
        }
        start.countDown();
        for (Thread pod : pods) {
            pod.join();
        }
        System.out.println();
        System.out.println("One instance ran the migration; the others waited for its lock and skipped it. "
                + "Tokens only go up.");
    }

    private void startUp(String pod, CountDownLatch start) {
        DlmOptions options = DlmOptions.builder().defaultOwner(pod).defaultTtl(Duration.ofSeconds(10)).build();
        try (MongoClient client = MongoClients.create(uri);
             Dlm dlm = MongoDlm.create(client.getDatabase("app").getCollection(MongoDlm.DEFAULT_COLLECTION), options)) {
            MongoCollection<Document> migrations = client.getDatabase("app").getCollection("migrations");
            Mutex mutex = dlm.newMutex(LOCK);
            start.await();
            Optional<Lease> first = mutex.tryLock();
            if (first.isEmpty()) {
                mutex.holder().ifPresent(h -> timeline.say(pod, "waits: held by " + h.owner() + " (token "
                        + h.fencingToken() + ", expires in "
                        + Duration.between(Instant.now(), h.expiresAt()).toMillis() + " ms)"));
            }
            try (Lease lease = first.isPresent() ? first.get() : mutex.lock(Duration.ofMinutes(1))) {
                timeline.say(pod, "acquired the lock, fencing token " + lease.fencingToken());
                Document done = migrations.find(eq("_id", MIGRATION)).first();
                if (done != null) {
                    timeline.say(pod, "skips: already applied by " + done.getString("by")
                            + " under token " + done.getLong("token"));
                } else {
                    timeline.say(pod, "runs migration " + MIGRATION + " ...");
                    Thread.sleep(MIGRATION_TAKES.toMillis());
                    migrations.replaceOne(eq("_id", MIGRATION),
                            new Document("_id", MIGRATION).append("by", pod).append("token", lease.fencingToken()),
                            new ReplaceOptions().upsert(true));
                    timeline.say(pod, "finished the migration");
                }
            }
            timeline.say(pod, "released the lock and serves traffic");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Prints events with the time since the demo started. */
    private static final class Timeline {
        private final long startNanos = System.nanoTime();

        synchronized void say(String pod, String event) {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            System.out.printf("%7.3f s  %-6s %s%n", seconds, pod, event);
        }
    }
}
