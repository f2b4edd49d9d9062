package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.WithEmbeddedMongo;
import io.dlm4j.testservers.EmbeddedMongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on MongoDB, through the embedded wire-protocol server: keys as {@code _id}. */
@WithEmbeddedMongo
class MongoInputPropertyTest extends InputPropertySuite {

    private static EmbeddedMongoServer server;
    private static MongoClient client;
    private static MongoCollection<Document> locks;

    @BeforeAll
    static void startServer(EmbeddedMongoServer shared) {
        server = shared;
        client = MongoClients.create(server.connectionString());
        locks = client.getDatabase("properties").getCollection(MongoDlm.DEFAULT_COLLECTION);
    }

    @AfterAll
    static void stopServer() {
        client.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return MongoDlm.create(locks, options);
    }

}
