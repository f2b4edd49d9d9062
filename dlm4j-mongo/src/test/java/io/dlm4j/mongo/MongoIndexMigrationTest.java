package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.netty.channel.Channel;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Migration of a collection that a dlm4j before issue 12 set up with a TTL {@code expired_locks}
 * (item 6). The embedded server keeps no secondary indexes, so this one answers
 * {@code listIndexes} with a scripted list and acknowledges {@code dropIndexes}; the commands the
 * driver sends are recorded and checked.
 */
class MongoIndexMigrationTest {

    /** Answers listIndexes with {@link #indexes}; drops and creations change that list, as a mongod would. */
    static final class ScriptedIndexes extends MemoryBackend {
        final List<de.bwaldvogel.mongo.bson.Document> indexes = new CopyOnWriteArrayList<>();

        @Override
        public de.bwaldvogel.mongo.bson.Document handleCommand(Channel channel, String databaseName, String command,
                                                               de.bwaldvogel.mongo.bson.Document query) {
            if (command.equalsIgnoreCase("listIndexes")) {
                de.bwaldvogel.mongo.bson.Document cursor = new de.bwaldvogel.mongo.bson.Document("id", 0L)
                        .append("ns", databaseName + "." + query.get("listIndexes"))
                        .append("firstBatch", new ArrayList<>(indexes));
                return new de.bwaldvogel.mongo.bson.Document("cursor", cursor).append("ok", 1.0);
            }
            if (command.equalsIgnoreCase("dropIndexes")) {
                indexes.removeIf(index -> index.get("name").equals(query.get("index")));
                return new de.bwaldvogel.mongo.bson.Document("nIndexesWas", indexes.size() + 1).append("ok", 1.0);
            }
            if (command.equalsIgnoreCase("createIndexes")) {
                for (Object spec : (List<?>) query.get("indexes")) {
                    indexes.add((de.bwaldvogel.mongo.bson.Document) spec);
                }
            }
            return super.handleCommand(channel, databaseName, command, query);
        }
    }

    private final ScriptedIndexes backend = new ScriptedIndexes();
    private final MongoServer server = new MongoServer(backend);
    private final CommandRecorder recorder = new CommandRecorder();
    private MongoClient client;

    private MongoCollection<Document> collection() {
        InetSocketAddress address = server.bind();
        client = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + address.getPort()))
                .addCommandListener(recorder)
                .build());
        return client.getDatabase("dlm4j_test").getCollection("locks");
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        server.shutdownNow();
    }

    private static de.bwaldvogel.mongo.bson.Document index(String name, de.bwaldvogel.mongo.bson.Document key) {
        return new de.bwaldvogel.mongo.bson.Document("v", 2).append("key", key).append("name", name);
    }

    private static de.bwaldvogel.mongo.bson.Document expiryAscending() {
        return new de.bwaldvogel.mongo.bson.Document("expiry", 1);
    }

    private List<String> indexCommands() {
        return recorder.all().stream().map(CommandRecorder.Command::name)
                .filter(n -> n.equals("listIndexes") || n.equals("dropIndexes") || n.equals("createIndexes")).toList();
    }

    private BsonDocument lastCreateIndexes() {
        List<CommandRecorder.Command> creates = recorder.all().stream().filter(c -> c.name().equals("createIndexes")).toList();
        return creates.get(creates.size() - 1).body();
    }

    @Test
    void aTtlIndexIsDroppedAndCreatedAsTheGoPackagesIndex() {
        backend.indexes.add(index("_id_", new de.bwaldvogel.mongo.bson.Document("_id", 1)));
        backend.indexes.add(index("expired_locks", expiryAscending()).append("expireAfterSeconds", 0));
        MongoCollection<Document> locks = collection();

        try (MongoMaintenance maintenance = MongoMaintenance.of(locks, Duration.ofSeconds(10))) {
            recorder.clear();
            assertThat(maintenance.migrateCleanupIndex()).isEqualTo(MongoMaintenance.CleanupIndex.REPLACED_TTL_INDEX);
        }

        assertThat(indexCommands()).containsExactly("listIndexes", "dropIndexes", "createIndexes");
        BsonDocument drop = recorder.all().stream().filter(c -> c.name().equals("dropIndexes")).findFirst().orElseThrow().body();
        assertThat(drop.getString("dropIndexes").getValue()).isEqualTo("locks");
        assertThat(drop.getString("index").getValue()).isEqualTo("expired_locks");
        assertThat(lastCreateIndexes().getArray("indexes"))
                .containsExactly(BsonDocument.parse("{key: {expiry: 1}, name: 'expired_locks'}"));
    }

    @Test
    void theGoPackagesIndexIsLeftAsItIs() {
        backend.indexes.add(index("expired_locks", expiryAscending()));
        MongoCollection<Document> locks = collection();

        try (MongoMaintenance maintenance = MongoMaintenance.of(locks, Duration.ofSeconds(10))) {
            recorder.clear();
            assertThat(maintenance.migrateCleanupIndex()).isEqualTo(MongoMaintenance.CleanupIndex.ALREADY_THERE);
        }
        assertThat(indexCommands()).containsExactly("listIndexes");
    }

    @Test
    void aMissingIndexIsCreated() {
        MongoCollection<Document> locks = collection();

        try (MongoMaintenance maintenance = MongoMaintenance.of(locks, Duration.ofSeconds(10))) {
            recorder.clear();
            assertThat(maintenance.migrateCleanupIndex()).isEqualTo(MongoMaintenance.CleanupIndex.CREATED);
        }
        assertThat(indexCommands()).containsExactly("listIndexes", "createIndexes");
        assertThat(lastCreateIndexes().getArray("indexes"))
                .containsExactly(BsonDocument.parse("{key: {expiry: 1}, name: 'expired_locks'}"));
    }

    @Test
    void anIndexOfThatNameOnOtherKeysIsLeftWithAnError() {
        backend.indexes.add(index("expired_locks", new de.bwaldvogel.mongo.bson.Document("expiry", -1))
                .append("expireAfterSeconds", 0));
        MongoCollection<Document> locks = collection();

        try (MongoMaintenance maintenance = MongoMaintenance.of(locks, Duration.ofSeconds(10))) {
            recorder.clear();
            assertThatThrownBy(maintenance::migrateCleanupIndex).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("expired_locks").hasMessageContaining("left as it is");
        }
        assertThat(indexCommands()).containsExactly("listIndexes");
    }
}
