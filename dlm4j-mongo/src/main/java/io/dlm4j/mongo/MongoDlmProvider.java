package io.dlm4j.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.spi.DlmProvider;
import io.dlm4j.spi.Redacted;
import org.bson.Document;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Serves {@code mongodb://host:port/db?collection=locks} (and {@code mongodb+srv://}). The database
 * defaults to {@value #DEFAULT_DATABASE}, the collection to {@link MongoDlm#DEFAULT_COLLECTION}; every
 * other option is the driver's. Without timeouts in the URI, server selection waits at most the
 * Dlm's operation timeout.
 */
public final class MongoDlmProvider implements DlmProvider {

    static final String DEFAULT_DATABASE = "dlm4j";
    private static final Pattern COLLECTION_OPTION = Pattern.compile("([?&])collection=([^&]*)&?", Pattern.CASE_INSENSITIVE);

    @Override
    public Set<String> schemes() {
        return Set.of("mongodb", "mongodb+srv");
    }

    @Override
    public Dlm create(String uri, DlmOptions options) {
        return MongoDlm.createOn(openStore(uri, options.operationTimeout()), options);
    }

    /** A store on the URI's collection that owns its client; bad URIs are IllegalArgumentException. */
    static MongoLockStore openStore(String uri, Duration operationTimeout) {
        String collectionName = MongoDlm.DEFAULT_COLLECTION;
        String driverUri = uri;
        Matcher option = COLLECTION_OPTION.matcher(uri);
        if (option.find()) {
            collectionName = URLDecoder.decode(option.group(2), StandardCharsets.UTF_8);
            driverUri = option.replaceFirst("$1").replaceAll("[?&]$", "");
        }
        if (collectionName.isEmpty()) {
            throw new IllegalArgumentException("uri option collection must not be empty: " + Redacted.uri(uri));
        }
        ConnectionString connection;
        try {
            connection = new ConnectionString(driverUri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("uri is not a valid MongoDB connection string: " + e.getMessage(), e);
        }
        MongoClient client = MongoClients.create(settings(connection, operationTimeout));
        String database = connection.getDatabase() != null ? connection.getDatabase() : DEFAULT_DATABASE;
        MongoCollection<Document> collection = client.getDatabase(database).getCollection(collectionName);
        return new MongoLockStore(collection, operationTimeout, String.join(",", connection.getHosts()), client);
    }

    private static MongoClientSettings settings(ConnectionString connection, Duration timeout) {
        MongoClientSettings.Builder settings = MongoClientSettings.builder().applyConnectionString(connection);
        if (connection.getServerSelectionTimeout() == null) {
            settings.applyToClusterSettings(c -> c.serverSelectionTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        if (connection.getConnectTimeout() == null) {
            settings.applyToSocketSettings(s -> s.connectTimeout((int) Math.min(timeout.toMillis(), 10_000),
                    TimeUnit.MILLISECONDS));
        }
        return settings.build();
    }
}
