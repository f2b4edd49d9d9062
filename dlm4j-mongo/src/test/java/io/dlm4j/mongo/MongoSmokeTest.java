package io.dlm4j.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.testkit.EmbeddedMongoServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class MongoSmokeTest {
    @Test
    void smoke() throws Exception {
        try (EmbeddedMongoServer server = EmbeddedMongoServer.start();
             MongoClient client = MongoClients.create(server.connectionString())) {
            var coll = client.getDatabase("t").getCollection("locks");
            try (Dlm a = MongoDlm.create(coll, DlmOptions.builder().defaultOwner("a").build());
                 Dlm b = MongoDlm.create(coll, DlmOptions.builder().defaultOwner("b").build())) {
                Lease l = a.newMutex("k", Duration.ofMillis(500)).lock();
                System.out.println(l + " " + coll.find().into(new java.util.ArrayList<>()));
                assertThat(b.newMutex("k").tryLock()).isEmpty();
                System.out.println(b.newMutex("k").holder());
                Lease l2 = a.newMutex("k").lock();
                assertThat(l2.fencingToken()).isEqualTo(l.fencingToken());
                long t = System.nanoTime();
                Lease lb = b.newMutex("k").lock();
                System.out.println("waited " + (System.nanoTime() - t) / 1e6 + " " + lb);
                lb.close();
                Lease l3 = a.newMutex("k").lock();
                System.out.println(l3 + " " + coll.find().into(new java.util.ArrayList<>()));
                assertThat(l3.fencingToken()).isGreaterThan(lb.fencingToken());
                System.out.println(a.ping());
            }
        }
    }
}
