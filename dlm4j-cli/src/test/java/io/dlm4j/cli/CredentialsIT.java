package io.dlm4j.cli;

import io.dlm4j.testservers.BadServer;
import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.RedisServer;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No credential from a uri in any line of any command, on every backend: against servers that
 * refuse the credentials (a Redis with a password, an etcd with authentication on, a MongoDB
 * server without authentication) and against closed ports.
 */
class CredentialsIT {

    private static final String SECRET = "wr0ng-s3cret";

    private static RedisServer redis;
    private static EtcdCluster etcd;
    private static EmbeddedMongoServer mongo;

    @TempDir
    Path dir;

    @BeforeAll
    static void startServersThatRefuse() throws Exception {
        redis = RedisServer.start();
        redis.command("CONFIG", "SET", "requirepass", "the-r1ght-one");
        etcd = EtcdCluster.startSingle();
        try (Client admin = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            Auth auth = admin.getAuthClient();
            auth.userAdd(bytes("root"), bytes("the-r1ght-one")).get(10, TimeUnit.SECONDS);
            auth.roleAdd(bytes("root")).get(10, TimeUnit.SECONDS);
            auth.userGrantRole(bytes("root"), bytes("root")).get(10, TimeUnit.SECONDS);
            auth.authEnable().get(10, TimeUnit.SECONDS);
        }
        mongo = EmbeddedMongoServer.start();
    }

    @AfterAll
    static void stopServers() {
        if (redis != null) {
            redis.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        if (mongo != null) {
            mongo.close();
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private static List<String> urisWithCredentials() {
        String redisAt = redis.hostAndPort();
        String etcdAt = String.join(",", etcd.endpoints()).replace("http://", "");
        int closed = BadServer.closedPort();
        return List.of(
                "redis://:" + SECRET + "@" + redisAt,
                "redis://alice:" + SECRET + "@" + redisAt + "/0",
                "redis://" + SECRET + "@" + redisAt,
                "redis://" + redisAt + "?password=" + SECRET,
                "redlock://:" + SECRET + "@" + redisAt + ",127.0.0.1:" + closed + ",127.0.0.1:" + (closed == 65535 ? 1 : closed + 1),
                "redis://:" + SECRET + "@" + redisAt + ",127.0.0.1:" + closed, // two hosts for redis://: refused
                "etcd://root:" + SECRET + "@" + etcdAt,
                "etcd://root:" + SECRET + "@127.0.0.1:" + closed,
                "etcd://" + SECRET + "@" + etcdAt, // half a pair: refused
                "mongodb://alice:" + SECRET + "@" + mongo.hostAndPort() + "/app?collection=locks",
                "mongodb://alice:" + SECRET + "@127.0.0.1:" + closed + "/app?serverSelectionTimeoutMS=1000",
                "mongodb://alice:" + SECRET + "@" + mongo.hostAndPort() + "/app?collection=",
                "memory://alice:" + SECRET + "@nowhere");
    }

    @Test
    void noCommandPrintsAPasswordFromItsUri() {
        Cli cli = new Cli(dir);
        List<String> leaks = new ArrayList<>();
        for (String uri : urisWithCredentials()) {
            // the messages come from the backend and the uri parsing that every command shares;
            // these three print them each their own way (unlock and --json print them as these do)
            List<String[]> commands = List.of(
                    new String[] {"ping", "--uri", uri, "--timeout", "2s"},
                    new String[] {"status", "--uri", uri, "--key", "k", "--json", "--timeout", "2s"},
                    new String[] {"run", "--uri", uri, "--key", "k", "--no-wait", "--timeout", "2s", "--", "true"});
            // the three of one uri run at the same time: 39 JVMs one after the other took most of a minute
            List<Cli.Started> started = commands.stream().map(cli::start).toList();
            for (Cli.Started command : started) {
                Cli.Result r = command.await(Cli.DEFAULT_TIMEOUT);
                if ((r.out() + r.err()).contains(SECRET)) {
                    leaks.add(r.toString().replace(SECRET, "<<SECRET>>"));
                }
            }
        }
        assertThat(leaks).as("outputs that show the password").isEmpty();
    }
}
