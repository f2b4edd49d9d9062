package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import static com.mongodb.client.model.Filters.eq;

/** The whole contract on MongoDB, through the embedded wire-protocol server. */
@WithEmbeddedMongo
class MongoConformanceTest extends ConformanceSuite {

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("conformance").getCollection(MongoDlm.DEFAULT_COLLECTION);
    }

    @AfterAll
    static void stopServer() {
        client.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return MongoDlm.create(locks, options);
    }

    @Override
    protected void deleteStoredRecord(String key) {
        locks.deleteOne(eq("_id", key));
    }
}
