package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.BadServer;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static com.mongodb.client.model.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** {@code Dlms.fromUri("mongodb://...")}: where the documents go, the driver's options, closing, bad input. */
@WithEmbeddedMongo
class MongoUriTest {

    private static final DlmOptions OPTIONS = DlmOptions.builder().defaultOwner("uri-test")
            .operationTimeout(Duration.ofSeconds(5)).build();

    private static EmbeddedMongoServer server;
    private static MongoClient inspector;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        inspector = MongoClients.create(server.connectionString());
    }

    @AfterAll
    static void stopServer() {
        if (inspector != null) {
            inspector.close();
        }
    }

    private static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    private static Document documentIn(String database, String collection, String key) {
        return inspector.getDatabase(database).getCollection(collection).find(eq("_id", key)).first();
    }

    /** Locks {@code key} through a Dlm made from {@code uri} and asserts where its document went. */
    private static void assertLocksIn(String uri, String database, String collection) {
        String key = newKey("where");
        try (Dlm dlm = Dlms.fromUri(uri, OPTIONS)) {
            Mutex mutex = dlm.newMutex(key);
            assertThat(mutex.tryLock()).isPresent();
            Document document = documentIn(database, collection, key);
            assertThat(document).as("lock document of %s from %s in %s.%s", key, uri, database, collection)
                    .isNotNull();
            assertThat(document.getString("owner")).isEqualTo("uri-test");
            mutex.unlock();
        }
        if (!(database.equals("dlm4j") && collection.equals(MongoDlm.DEFAULT_COLLECTION))) {
            assertThat(documentIn("dlm4j", MongoDlm.DEFAULT_COLLECTION, key))
                    .as("document of %s in the default dlm4j.locks", key).isNull();
        }
    }

    @Test
    void databaseAndCollectionComeFromTheUri() {
        assertLocksIn(server.connectionString() + "/mydb?collection=mylocks", "mydb", "mylocks");
    }

    @Test
    void withoutDatabaseAndCollectionTheDefaultsAreUsed() {
        assertThat(MongoDlm.DEFAULT_COLLECTION).isEqualTo("locks");
        assertLocksIn(server.connectionString(), "dlm4j", MongoDlm.DEFAULT_COLLECTION);
        assertLocksIn(server.connectionString() + "/", "dlm4j", MongoDlm.DEFAULT_COLLECTION);
    }

    @Test
    void theCollectionOptionIsCaseInsensitiveAndUrlDecoded() {
        assertLocksIn(server.connectionString() + "/caseDb?Collection=mixed", "caseDb", "mixed");
        assertLocksIn(server.connectionString() + "/caseDb?collection=app%20locks", "caseDb", "app locks");
    }

    @Test
    void eitherOneCanBeLeftOut() {
        assertLocksIn(server.connectionString() + "/onlydb", "onlydb", MongoDlm.DEFAULT_COLLECTION);
        assertLocksIn(server.connectionString() + "/?collection=onlycoll", "dlm4j", "onlycoll");
    }

    @Test
    void otherDriverOptionsMayComeBeforeOrAfterTheCollection() {
        assertLocksIn(server.connectionString() + "/appdb?collection=first&appName=dlm4j-test", "appdb", "first");
        assertLocksIn(server.connectionString() + "/appdb?appName=dlm4j-test&collection=last", "appdb", "last");
        assertLocksIn(server.connectionString() + "/appdb?appName=dlm4j-test&collection=middle&maxPoolSize=5",
                "appdb", "middle");
    }


    @Test
    void driverOptionsBesideTheCollectionTakeEffect() throws Exception {
        // With an operation timeout of 30 s, only the URI's serverSelectionTimeoutMS makes a down
        // server fail fast: proof that the option reached the driver, wherever it stands.
        DlmOptions patient = OPTIONS.toBuilder().operationTimeout(Duration.ofSeconds(30)).build();
        String down = "mongodb://127.0.0.1:" + BadServer.closedPort() + "/db";
        for (String uri : List.of(down + "?collection=x&serverSelectionTimeoutMS=300",
                down + "?serverSelectionTimeoutMS=300&collection=x")) {
            long start = System.nanoTime();
            try (Dlm dlm = Dlms.fromUri(uri, patient)) {
                Throwable thrown = catchThrowable(dlm::ping);
                assertThat(thrown).as("ping via %s", uri).isInstanceOf(LockBackendException.class)
                        .hasMessageContaining("db.x");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("construction and ping via %s", uri)
                    .isLessThan(Duration.ofSeconds(8));
        }
    }

    private static List<String> driverThreadsOf(EmbeddedMongoServer target) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.contains(target.hostAndPort()))
                .toList();
    }

    @Test
    void closingTheDlmClosesItsClient() {
        // a server of its own, so that the driver threads watching it belong to this Dlm's client only
        try (EmbeddedMongoServer own = EmbeddedMongoServer.start()) {
            Dlm dlm = Dlms.fromUri(own.connectionString() + "/db", OPTIONS);
            dlm.ping();
            assertThat(driverThreadsOf(own)).as("the client's monitor threads").isNotEmpty();

            dlm.close();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(driverThreadsOf(own)).as("monitor threads after close").isEmpty());
            assertThatThrownBy(dlm::ping).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> dlm.newMutex("after-close")).isInstanceOf(IllegalStateException.class);
            assertThatCode(dlm::close).as("a second close").doesNotThrowAnyException();
        }
    }

    @Test
    void closingADlmLeavesTheUsersClientOpen() {
        try (MongoClient client = MongoClients.create(server.connectionString())) {
            MongoCollection<Document> locks = client.getDatabase("userdb").getCollection("locks");
            Dlm dlm = MongoDlm.create(locks, OPTIONS);
            dlm.close();
            assertThatCode(dlm::close).doesNotThrowAnyException();
            assertThat(locks.countDocuments()).as("the user's client still works").isNotNegative();
        }
    }

    private static IllegalArgumentException illegal(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(IllegalArgumentException.class);
        return (IllegalArgumentException) thrown;
    }

    @Test
    void anUnknownSchemeIsRejectedByName() {
        assertThat(illegal(() -> Dlms.fromUri("foo://host:1234", OPTIONS)).getMessage()).contains("foo");
    }

    @Test
    void aSchemeOfAMissingArtifactNamesTheArtifact() {
        assertThat(illegal(() -> Dlms.fromUri("redis://localhost:6379", OPTIONS)).getMessage()).contains("dlm4j-redis");
    }

    @Test
    void anInvalidMongoConnectionStringIsRejected() {
        for (String uri : List.of("mongodb://", "mongodb://localhost:notaport/db", "mongodb://localhost:99999/db",
                "mongodb://localhost/db?collection=")) {
            assertThat(catchThrowable(() -> Dlms.fromUri(uri, OPTIONS).close()))
                    .as("Dlms.fromUri(%s)", uri).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void nullArgumentsAreRejectedByName() {
        try (MongoClient client = MongoClients.create(server.connectionString())) {
            MongoCollection<Document> locks = client.getDatabase("userdb").getCollection("locks");
            assertThatThrownBy(() -> MongoDlm.create(null, OPTIONS))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("collection");
            assertThatThrownBy(() -> MongoDlm.create(locks, null))
                    .isInstanceOf(NullPointerException.class).hasMessageContaining("options");
        }
    }
}
