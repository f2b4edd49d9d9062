package io.dlm4j.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
import io.dlm4j.testservers.RedisServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The servers of one run, started once with the launchers of dlm4j-test-servers: one Redis, three
 * Redis masters for Redlock, one etcd member, the MongoDB wire server (in this JVM), one PostgreSQL,
 * one MariaDB. Wiped between forks (the JDBC ones: the bench's tables and sequences dropped).
 */
final class BenchServers implements AutoCloseable {

    private final List<String> backends;
    private RedisServer redis;
    private final List<RedisServer> masters = new ArrayList<>();
    private EtcdCluster etcd;
    private Client etcdClient;
    private EmbeddedMongoServer mongo;
    private MongoClient mongoClient;
    private PostgresServer postgres;
    private MariaDbServer mariadb;

    BenchServers(List<String> backends) {
        this.backends = backends;
        try {
            if (backends.contains("redis")) {
                redis = RedisServer.start();
            }
            if (backends.contains("redlock")) {
                for (int i = 0; i < 3; i++) {
                    masters.add(RedisServer.start());
                }
            }
            if (backends.contains("etcd")) {
                etcd = EtcdCluster.startSingle();
                etcdClient = Client.builder().endpoints(etcd.member(0).endpoint()).build();
            }
            if (backends.contains("mongo")) {
                mongo = EmbeddedMongoServer.start();
                mongoClient = MongoClients.create(mongo.connectionString());
            }
            if (backends.contains("postgres")) {
                postgres = PostgresServer.start();
            }
            if (backends.contains("mariadb")) {
                mariadb = MariaDbServer.start();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** host:port of each server a backend's fork talks to; for JDBC the URL, the user and the password. */
    List<String> addresses(String backend) {
        return switch (backend) {
            case "redis" -> List.of(redis.hostAndPort());
            case "redlock" -> masters.stream().map(RedisServer::hostAndPort).toList();
            case "etcd" -> List.of(etcd.member(0).hostAndPort());
            case "mongo" -> List.of(mongo.hostAndPort());
            case "postgres" -> List.of(postgres.jdbcUrl(), postgres.user(), postgres.password());
            case "mariadb" -> List.of(mariadb.jdbcUrl(), mariadb.user(), mariadb.password());
            default -> throw new IllegalArgumentException("unknown backend " + backend);
        };
    }

    /** Empties a backend's server(s), so that each fork starts from nothing. */
    void wipe(String backend) throws Exception {
        switch (backend) {
            case "redis" -> flush(redis);
            case "redlock" -> {
                for (RedisServer m : masters) {
                    flush(m);
                }
            }
            case "etcd" -> {
                ByteSequence all = ByteSequence.from(new byte[] {0});
                etcdClient.getKVClient().delete(all, DeleteOption.builder().withRange(all).build()).get(30, TimeUnit.SECONDS);
            }
            case "mongo" -> mongoClient.getDatabase(MongoLibraries.DATABASE).drop();
            case "postgres" -> postgres.sql(dropJdbcTables());
            case "mariadb" -> mariadb.sql(dropJdbcTables());
            default -> throw new IllegalArgumentException("unknown backend " + backend);
        }
    }

    private static String dropJdbcTables() {
        return "DROP TABLE IF EXISTS " + String.join(", ", JdbcCounter.TABLES) + "; DROP SEQUENCE IF EXISTS "
                + String.join(", ", JdbcCounter.TABLES.stream().filter(t -> t.startsWith("dlm4j") || t.startsWith("bench"))
                .map(t -> t + "_token").toList());
    }

    private static void flush(RedisServer server) {
        String reply = server.command("FLUSHALL");
        if (!"+OK".equals(reply)) {
            throw new IllegalStateException("FLUSHALL on " + server + " answered " + reply);
        }
    }

    List<String> backends() {
        return backends;
    }

    @Override
    public void close() {
        if (mariadb != null) {
            mariadb.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        if (mongoClient != null) {
            mongoClient.close();
        }
        if (mongo != null) {
            mongo.close();
        }
        if (etcdClient != null) {
            etcdClient.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        masters.forEach(RedisServer::close);
        if (redis != null) {
            redis.close();
        }
    }
}
