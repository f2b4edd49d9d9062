package io.dlm4j.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoDatabase;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the backend counted: commands (or requests) by name, as the server sees them where it can
 * tell, and how many keys or documents it holds. Read before and after a phase; the difference is
 * what the phase cost.
 */
interface ServerCounter extends AutoCloseable {

    /** Round trips so far: commands (requests) clients sent, by name, without the ones this counter sends. */
    Map<String, Long> commands();

    /**
     * Commands the server ran so far, by name, where that differs from {@link #commands()} (Redis
     * counts the commands inside a Lua script too); empty where it is the same.
     */
    default Map<String, Long> serverCommands() {
        return Map.of();
    }

    /**
     * Requests so far, read cheaply enough to do while a scenario is timed (Redis: commandstats,
     * whose EVALSHA/SET counts are the clients' own; no MONITOR).
     */
    default Map<String, Long> cheapCommands() {
        return commands();
    }

    /** Stops what counting costs the server, until the next {@link #commands()} (MONITOR for Redis). */
    default void pause() {
    }

    /** Keys (documents) stored now. */
    long keys();

    @Override
    default void close() {
    }

    static Map<String, Long> difference(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long n = v - before.getOrDefault(k, 0L);
            if (n != 0) {
                d.put(k, n);
            }
        });
        return d;
    }

    /**
     * Redis: round trips from a {@code MONITOR} feed, server-side commands from {@code INFO
     * commandstats}, keys from {@code DBSIZE}; summed over the servers (Redlock's masters).
     */
    final class Redis implements ServerCounter {
        /** What this counter and connection set-up send. */
        private static final Set<String> OWN = Set.of("info", "dbsize", "echo", "hello", "client", "client|setinfo", "client|setname",
                "script", "config",
                "ping", "command", "command|docs", "select", "script|load", "config|get");
        private static final Pattern STAT = Pattern.compile("^cmdstat_([^:]+):calls=(\\d+)", Pattern.MULTILINE);

        private final List<RedisClient> clients = new ArrayList<>();
        private final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
        private final List<String> hostPorts;
        /** Opened on the first count only: a MONITOR feed slows the server, so none runs while timing. */
        private final List<RedisMonitor> monitors = new ArrayList<>();

        Redis(List<String> hostPorts) {
            this.hostPorts = hostPorts;
            for (String hostPort : hostPorts) {
                RedisClient c = RedisClient.create("redis://" + hostPort);
                clients.add(c);
                connections.add(c.connect());
            }
        }

        @Override
        public Map<String, Long> commands() {
            Map<String, Long> total = new TreeMap<>();
            synchronized (monitors) {
                if (monitors.isEmpty()) {
                    hostPorts.forEach(hp -> monitors.add(new RedisMonitor(hp)));
                }
            }
            for (RedisMonitor m : monitors) {
                m.clientCommands().forEach((k, v) -> {
                    if (!OWN.contains(k)) {
                        total.merge(k, v, Long::sum);
                    }
                });
            }
            return total;
        }

        @Override
        public Map<String, Long> cheapCommands() {
            return serverCommands();
        }

        @Override
        public Map<String, Long> serverCommands() {
            Map<String, Long> total = new TreeMap<>();
            for (StatefulRedisConnection<String, String> c : connections) {
                Matcher m = STAT.matcher(c.sync().info("commandstats"));
                while (m.find()) {
                    if (!OWN.contains(m.group(1))) {
                        total.merge(m.group(1), Long.parseLong(m.group(2)), Long::sum);
                    }
                }
            }
            return total;
        }

        @Override
        public long keys() {
            return connections.stream().mapToLong(c -> c.sync().dbsize()).sum();
        }

        @Override
        public void pause() {
            synchronized (monitors) {
                monitors.forEach(RedisMonitor::close);
                monitors.clear();
            }
        }

        @Override
        public void close() {
            pause();
            connections.forEach(StatefulRedisConnection::close);
            clients.forEach(RedisClient::shutdown);
        }
    }

    /** etcd's Prometheus endpoint: gRPC requests received by method, and the keys in the store. */
    final class Etcd implements ServerCounter {
        private static final Pattern RECEIVED = Pattern.compile(
                "^grpc_server_msg_received_total\\{grpc_method=\"([^\"]+)\"[^}]*} ([0-9.e+]+)$", Pattern.MULTILINE);
        private static final Pattern KEYS = Pattern.compile("^etcd_debugging_mvcc_keys_total ([0-9.e+]+)$", Pattern.MULTILINE);

        private final String endpoint;
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        Etcd(String hostPort) {
            this.endpoint = "http://" + hostPort + "/metrics";
        }

        private String metrics() {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(endpoint)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
            } catch (IOException e) {
                throw new UncheckedIOException("GET " + endpoint, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading " + endpoint, e);
            }
        }

        @Override
        public Map<String, Long> commands() {
            Map<String, Long> total = new TreeMap<>();
            Matcher m = RECEIVED.matcher(metrics());
            while (m.find()) {
                long n = (long) Double.parseDouble(m.group(2));
                if (n > 0) {
                    total.merge(m.group(1), n, Long::sum);
                }
            }
            return total;
        }

        @Override
        public long keys() {
            Matcher m = KEYS.matcher(metrics());
            return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
        }
    }

    /**
     * The MongoDB driver's {@link CommandListener} on the client the fork gives to the library (the
     * wire server counts nothing), and the documents in the bench database.
     */
    final class Mongo implements ServerCounter, CommandListener {
        private static final Set<String> OWN = Set.of("hello", "isMaster", "ismaster", "buildInfo", "buildinfo",
                "endSessions");

        private final Map<String, LongAdder> started = new ConcurrentHashMap<>();
        private volatile MongoClient client;
        /** Set while {@link #keys()} counts, which happens only between phases, with the workers idle. */
        private volatile boolean muted;

        void attach(MongoClient client) {
            this.client = client;
        }

        @Override
        public void commandStarted(CommandStartedEvent event) {
            if (muted) {
                return;
            }
            started.computeIfAbsent(event.getCommandName(), k -> new LongAdder()).increment();
        }

        @Override
        public Map<String, Long> commands() {
            Map<String, Long> total = new TreeMap<>();
            started.forEach((k, v) -> {
                if (!OWN.contains(k)) {
                    total.put(k, v.sum());
                }
            });
            return total;
        }

        @Override
        public long keys() {
            muted = true;
            try {
                MongoDatabase db = client.getDatabase(MongoLibraries.DATABASE);
                long n = 0;
                for (String name : db.listCollectionNames()) {
                    n += db.getCollection(name).countDocuments();
                }
                return n;
            } finally {
                muted = false;
            }
        }
    }
}
