package io.dlm4j.cli;

import io.dlm4j.testservers.EmbeddedMongoServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The commands on a MongoDB wire-protocol server in this JVM; the dlm4j processes reach it over loopback. */
class MongoIT extends BackendIT {

    private static EmbeddedMongoServer mongo;

    @BeforeAll
    static void startMongo() {
        mongo = EmbeddedMongoServer.start();
    }

    @AfterAll
    static void stopMongo() {
        if (mongo != null) {
            mongo.close();
        }
    }

    @Override
    String uri() {
        return mongo.connectionString() + "/cli_it?collection=locks";
    }
}
