package io.dlm4j.cli;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code dlm4j mongo prune} and {@code dlm4j mongo migrate-index}, run in this JVM against the
 * in-process MongoDB server (the shaded jar's ITs need {@code mvn verify}).
 */
class MongoCommandTest {

    private static EmbeddedMongoServer server;
    private static MongoClient client;

    @BeforeAll
    static void startServer() {
        server = EmbeddedMongoServer.start();
        client = MongoClients.create(server.connectionString());
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    record Run(int exit, String out, String err) {
    }

    private static synchronized Run dlm4j(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cmd = Dlm4jCommand.commandLine();
            cmd.setErr(new PrintWriter(err, true));
            int exit = cmd.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(original);
        }
    }

    private static String uri(String collection) {
        return server.connectionString() + "/cli_test?collection=" + collection;
    }

    @Test
    void pruneDeletesOnlyDocumentsExpiredLongerAgoThanTheGrace() {
        MongoCollection<Document> locks = client.getDatabase("cli_test").getCollection("prune");
        long now = System.currentTimeMillis();
        locks.insertMany(List.of(
                new Document("_id", "old").append("owner", "go-app").append("expiry", new Date(now - 3 * 3_600_000L)),
                new Document("_id", "recent").append("owner", "go-app").append("expiry", new Date(now - 60_000)),
                new Document("_id", "live").append("owner", "go-app").append("expiry", new Date(now + 60_000))));

        Run run = dlm4j("mongo", "prune", "--uri", uri("prune"), "--grace", "2h");

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("pruned: 1 lock document expired over ").contains("cli_test.prune");
        assertThat(locks.find(eq("_id", "old")).first()).isNull();
        assertThat(locks.find(eq("_id", "recent")).first()).isNotNull();
        assertThat(locks.find(eq("_id", "live")).first()).isNotNull();

        Run json = dlm4j("mongo", "prune", "--uri", uri("prune"), "--grace", "0s", "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        assertThat(json.out().strip()).isEqualTo("{\"ok\":true,\"deleted\":1,\"graceSeconds\":0}");
        assertThat(locks.find(eq("_id", "live")).first()).isNotNull();
    }

    @Test
    void migrateIndexCreatesTheGoPackagesIndexOnANewCollection() {
        // the in-process server keeps no secondary indexes, so listIndexes never shows one:
        // MongoIndexMigrationTest in dlm4j-mongo covers the drop of a TTL index
        Run run = dlm4j("mongo", "migrate-index", "--uri", uri("migrate"));

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("created: the index expired_locks {expiry: 1} of ").contains("cli_test.migrate");
    }

    @Test
    void aUriOfAnotherBackendIsAUsageError() {
        Run run = dlm4j("mongo", "prune", "--uri", "redis://user:secret@localhost:6379");

        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--uri must be a mongodb://").doesNotContain("secret");
    }

    @Test
    void aMissingSubcommandIsAUsageError() {
        Run run = dlm4j("mongo");

        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("missing command: prune or migrate-index");
    }

    @Test
    void anUnreachableServerIsUnavailable() {
        Run run = dlm4j("mongo", "prune", "--uri", "mongodb://user:secret@127.0.0.1:1/x", "--timeout", "1s");

        assertThat(run.exit()).as(run.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run.err()).contains("backend unavailable").doesNotContain("secret");
    }
}
