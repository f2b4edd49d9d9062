package io.dlm4j.testservers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Real {@code etcd} servers (the Debian package etcd-server, etcd 3.4) run as child processes for
 * tests: one member, or several forming one cluster, each on its own free loopback client and peer
 * ports, in its own temporary folder.
 *
 * <p>Why real servers and not a mock: the etcd backend's correctness lives in the server's semantics
 * (transactions comparing revisions, leases expiring on the leader's clock, what a leader change does
 * to a lease). Fault tests also need processes to {@linkplain Member#kill() kill -9},
 * {@linkplain Member#pause() freeze with SIGSTOP} and {@linkplain Member#restart() bring back}.
 *
 * <p>Use:
 * <pre>{@code
 * static EtcdCluster etcd;
 *
 * @BeforeAll static void startEtcd() { etcd = EtcdCluster.start(3); }   // or EtcdCluster.startSingle()
 * @AfterAll  static void stopEtcd()  { etcd.close(); }
 *
 * // a client connects to etcd.endpointsUri(), e.g. "etcd://127.0.0.1:41234,127.0.0.1:41240,127.0.0.1:41246"
 * etcd.put("k", "v");
 * etcd.get("k");                       // "v"
 *
 * // faults
 * EtcdCluster.Member leader = etcd.leader();
 * leader.kill();                       // SIGKILL
 * etcd.awaitLeader(Duration.ofSeconds(5));
 * leader.restart();                    // same ports, same data: it catches up with the others
 * etcd.member(1).pause();              // SIGSTOP: connections stay open, nothing answers
 * etcd.member(1).resume();             // SIGCONT
 * }</pre>
 *
 * <p>Each member {@code mN} runs with {@code --name mN --data-dir <tmp>/mN/data
 * --listen-client-urls http://127.0.0.1:C --advertise-client-urls http://127.0.0.1:C
 * --listen-peer-urls http://127.0.0.1:P --initial-advertise-peer-urls http://127.0.0.1:P
 * --initial-cluster m0=...,m1=... --initial-cluster-state new --initial-cluster-token <unique>
 * --logger zap --log-outputs stderr}; its stdout and stderr go to {@code <tmp>/mN/etcd.log}.
 * {@code ETCD_*} environment variables are not passed on, so they cannot change the flags.
 *
 * <p><b>Timing and leases.</b> By default ({@link Options#defaults()}) the members run with
 * {@code --heartbeat-interval 50 --election-timeout 500}, so a new leader is elected within about a
 * second of losing one. This also matters for leases: etcd silently raises a lease's TTL to a minimum
 * derived from the election timeout, {@code ceil(((3 * electionTimeout / heartbeat) / 2) * heartbeat)}
 * in whole seconds, about 1.5 × the election timeout rounded up. With 500 ms that is 1 s, so 1 s
 * leases are possible; with etcd's own defaults (100 ms / 1000 ms, {@link Options#etcdDefaults()})
 * a 1 s lease is granted as 2 s. {@link Options#minimumLeaseTtl()} gives the value. Note also that
 * etcd 3.4 does not checkpoint lease TTLs by default: a new leader gives every lease its full TTL
 * again (plus the election timeout), so leases outlive their TTL across a leader change.
 *
 * <p>{@link #start(int)} returns once every member answers {@code GET /health} with
 * {@code {"health":"true"}} (which needs a leader and a quorum) as the process it started, and not
 * some other server on that port. A JVM shutdown hook kills every member that was not closed, so a
 * test run leaves no orphans (except when the JVM itself is killed with SIGKILL).
 *
 * <p>If {@code etcd} is not installed, starting throws an {@link IllegalStateException} that names
 * {@code scripts/setup-test-servers}. Debian's package also starts a system etcd on
 * {@code 127.0.0.1:2379} where systemd runs; these members use their own free ports and never rely
 * on it.
 *
 * <p>Methods are thread-safe. Linux only ({@code pause()} and {@code resume()} run {@code kill}).
 */
public final class EtcdCluster implements AutoCloseable {

    /** The settings of an {@link EtcdCluster}. Immutable; made with {@link #builder()}. */
    public static final class Options {

        private final Duration heartbeatInterval;
        private final Duration electionTimeout;
        private final List<String> extraArgs;

        private Options(Builder b) {
            if (b.heartbeatInterval != null && b.electionTimeout != null
                    && b.electionTimeout.toMillis() < 5 * b.heartbeatInterval.toMillis()) {
                throw new IllegalArgumentException("etcd wants an election timeout of at least 5 heartbeats: "
                        + b.electionTimeout.toMillis() + " ms < 5 × " + b.heartbeatInterval.toMillis() + " ms");
            }
            this.heartbeatInterval = b.heartbeatInterval;
            this.electionTimeout = b.electionTimeout;
            this.extraArgs = List.copyOf(b.extraArgs);
        }

        /** Quick elections: {@code --heartbeat-interval 50 --election-timeout 500}; 1 s leases possible. */
        public static Options defaults() {
            return builder().heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(500)).build();
        }

        /** etcd's own timing (heartbeat 100 ms, election timeout 1000 ms): leases are at least 2 s. */
        public static Options etcdDefaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /** {@code --heartbeat-interval}; etcd's default 100 ms when not set. */
        public Duration heartbeatInterval() {
            return heartbeatInterval != null ? heartbeatInterval : Duration.ofMillis(100);
        }

        /** {@code --election-timeout}; etcd's default 1000 ms when not set. */
        public Duration electionTimeout() {
            return electionTimeout != null ? electionTimeout : Duration.ofMillis(1000);
        }

        /**
         * The smallest lease TTL the members grant: a lease asked for with a shorter TTL gets this one.
         * Computed as etcd 3.4 does: {@code ceil((3 * electionTicks / 2) * heartbeat)} seconds, where
         * {@code electionTicks = electionTimeout / heartbeat} (integer divisions).
         */
        public Duration minimumLeaseTtl() {
            long heartbeat = heartbeatInterval().toMillis();
            long ticks = electionTimeout().toMillis() / heartbeat;
            long millis = (3 * ticks / 2) * heartbeat;
            return Duration.ofSeconds((millis + 999) / 1000);
        }

        /** Arguments appended to every member's command line, e.g. {@code "--quota-backend-bytes", "16777216"}. */
        public List<String> extraArgs() {
            return extraArgs;
        }

        private List<String> timingArgs() {
            List<String> args = new ArrayList<>();
            if (heartbeatInterval != null) {
                args.addAll(List.of("--heartbeat-interval", Long.toString(heartbeatInterval.toMillis())));
            }
            if (electionTimeout != null) {
                args.addAll(List.of("--election-timeout", Long.toString(electionTimeout.toMillis())));
            }
            return args;
        }

        public static final class Builder {
            private Duration heartbeatInterval;
            private Duration electionTimeout;
            private final List<String> extraArgs = new ArrayList<>();

            private Builder() {
            }

            /** See {@link Options#heartbeatInterval()}. */
            public Builder heartbeatInterval(Duration interval) {
                this.heartbeatInterval = positiveMillis(interval, "interval");
                return this;
            }

            /** See {@link Options#electionTimeout()}. */
            public Builder electionTimeout(Duration timeout) {
                this.electionTimeout = positiveMillis(timeout, "timeout");
                return this;
            }

            /** Adds arguments to every member's command line; see {@link Options#extraArgs()}. */
            public Builder extraArgs(String... args) {
                for (String arg : args) {
                    extraArgs.add(Objects.requireNonNull(arg, "arg"));
                }
                return this;
            }

            public Options build() {
                return new Options(this);
            }

            private static Duration positiveMillis(Duration d, String name) {
                Objects.requireNonNull(d, name);
                if (d.toMillis() <= 0) {
                    throw new IllegalArgumentException(name + " must be at least 1 ms: " + d);
                }
                return d;
            }
        }
    }

    /** The message when the binary is missing. */
    static final String NOT_FOUND =
            "etcd not found: run scripts/setup-test-servers (installs the Debian package etcd-server)";

    private static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #close()} lets each member stop gracefully before SIGKILL. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);
    /** How long {@link Member#restart()} keeps trying when its old ports cannot be bound yet. */
    private static final Duration REBIND_TIMEOUT = Duration.ofSeconds(5);
    private static final int PORT_ATTEMPTS = 5;
    /** For health and status polls: a paused member must not hold them up for long. */
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** For key-value requests: etcd gives up on a proposal after about 5 s itself. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
    private static final String LOG = "etcd.log";
    private static final int TAIL_LINES = 20;
    private static final String BIND_FAILURE = "address already in use";

    private static final Pattern HEALTHY = Pattern.compile("\"health\"\\s*:\\s*\"true\"");
    private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern RAFT_TERM = Pattern.compile("\"raftTerm\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern VALUE = Pattern.compile("\"value\"\\s*:\\s*\"([A-Za-z0-9+/=]*)\"");
    private static final Pattern MEMBER = Pattern.compile("\\{\"ID\"\\s*:\\s*\"(\\d+)\"[^{}]*?\"peerURLs\"\\s*:\\s*\\[([^\\]]*)\\]");

    /** Members not yet closed; the shutdown hook kills them. */
    private static final Set<Member> LIVE = ConcurrentHashMap.newKeySet();

    private final Options options;
    private final Path directory;
    private final List<Member> members;
    private volatile boolean closed;

    private EtcdCluster(Options options, Path directory, List<Member> members) {
        this.options = options;
        this.directory = directory;
        this.members = members;
    }

    /** Starts a one-member cluster with {@link Options#defaults()} and waits until it is healthy. */
    public static EtcdCluster startSingle() {
        return start(1, Options.defaults());
    }

    /** Starts a cluster of {@code members} members with {@link Options#defaults()}; see {@link #start(int, Options)}. */
    public static EtcdCluster start(int members) {
        return start(members, Options.defaults());
    }

    /**
     * Starts {@code members} members forming one new cluster and waits until every one is healthy
     * (up to 20 s). Ports that another process takes between our probe and etcd's bind are replaced
     * by new ones (a few attempts).
     *
     * @throws IllegalStateException if {@code etcd} is not installed or the cluster did not become
     *                               healthy; the message then holds the tail of the member logs
     */
    public static EtcdCluster start(int members, Options options) {
        if (members < 1) {
            throw new IllegalArgumentException("members must be at least 1: " + members);
        }
        Objects.requireNonNull(options, "options");
        Path binary = ChildProcesses.findBinary("etcd", NOT_FOUND);
        ShutdownHook.ensureRegistered();
        IllegalStateException last = null;
        for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
            Path directory;
            try {
                directory = Files.createTempDirectory("dlm4j-etcd-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for etcd", e);
            }
            EtcdCluster cluster = create(binary, options, directory, members);
            try {
                if (cluster.launchAll()) {
                    return cluster;
                }
                last = new IllegalStateException("etcd could not bind its ports\n" + cluster.logTails());
            } catch (RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
            cluster.close();
        }
        throw last;
    }

    /** The members' client URLs, {@code http://127.0.0.1:C}, in member order. */
    public List<String> endpoints() {
        return members.stream().map(Member::endpoint).collect(Collectors.toUnmodifiableList());
    }

    /** The dlm4j URI: {@code etcd://127.0.0.1:C0,127.0.0.1:C1,...}. */
    public String endpointsUri() {
        return "etcd://" + members.stream().map(Member::hostAndPort).collect(Collectors.joining(","));
    }

    /** How many members the cluster has (running or not). */
    public int size() {
        return members.size();
    }

    /** Member {@code i}, named {@code "m" + i}. */
    public Member member(int i) {
        return members.get(i);
    }

    /** All members, in order. */
    public List<Member> members() {
        return members;
    }

    /** The settings the members run with. */
    public Options options() {
        return options;
    }

    /** The cluster's folder, holding one folder per member. Deleted by {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /**
     * The current leader: asks every running, unpaused member for its status
     * ({@code POST /v3/maintenance/status}) and returns the member that reports itself as leader (the
     * one with the highest raft term, should an old leader not have noticed yet).
     *
     * @throws IllegalStateException if no member is leader now, e.g. during an election or without
     *                               a quorum; {@link #awaitLeader(Duration)} waits for one
     */
    public Member leader() {
        checkOpen();
        Member best = null;
        long bestTerm = -1;
        for (Member m : members) {
            String status = m.statusOrNull();
            if (status == null) {
                continue;
            }
            String self = find(MEMBER_ID, status);
            String leader = find(LEADER, status);
            String term = find(RAFT_TERM, status);
            if (self != null && self.equals(leader)) {
                long t = term != null ? Long.parseLong(term) : 0;
                if (t > bestTerm) {
                    best = m;
                    bestTerm = t;
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("no etcd member is leader now");
        }
        return best;
    }

    /**
     * Waits until some member is leader and returns it.
     *
     * @throws IllegalStateException if there is none within {@code timeout}; with the member log tails
     */
    public Member awaitLeader(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return leader();
            } catch (IllegalStateException e) {
                checkOpen();
                if (System.nanoTime() - deadline >= 0) {
                    throw new IllegalStateException("no etcd leader within " + timeout.toMillis() + " ms\n"
                            + logTails(), e);
                }
            }
            sleep(POLL_INTERVAL);
        }
    }

    /**
     * The value of {@code key} (UTF-8), or {@code null} if there is none; a linearizable read
     * ({@code POST /v3/kv/range}) through the first running, unpaused member.
     *
     * @throws IllegalStateException if no member answers, or etcd refuses (e.g. no quorum)
     */
    public String get(String key) {
        return anyMember().get(key);
    }

    /** Sets {@code key} to {@code value} ({@code POST /v3/kv/put}) through the first running, unpaused member. */
    public void put(String key, String value) {
        anyMember().put(key, value);
    }

    /** Deletes {@code key} ({@code POST /v3/kv/deleterange}) through the first running, unpaused member. */
    public void delete(String key) {
        anyMember().delete(key);
    }

    /** The cluster's current revision (the header of a linearizable range request). */
    public long revision() {
        return anyMember().revision();
    }

    /**
     * Stops every member, one after the other (resuming paused ones first; SIGTERM, then SIGKILL after
     * 2 s, since the data is deleted anyway), and deletes the folders. Idempotent; safe to call from
     * {@code @AfterAll} whatever state the members are in.
     *
     * <p>All paused members are resumed first, and then stopped one after the other, because a
     * leader that gets SIGTERM first hands its leadership to a follower, and waits up to 6 s for that
     * when the followers are paused or stopping at the same time.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            for (Member m : members) { // a leader hands over to a follower on SIGTERM: let them answer
                m.resumeForClose();
            }
            for (Member m : members) {
                try {
                    m.terminate();
                    m.awaitTerminated(CLOSE_GRACE);
                } catch (RuntimeException e) {
                    m.killNow(); // e.g. interrupted: leave no process behind
                    throw e;
                }
            }
        } finally {
            for (Member m : members) {
                m.killNow();
            }
            closed = true;
            LIVE.removeAll(members);
            ChildProcesses.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        return "EtcdCluster[" + endpointsUri() + ", " + directory + "]";
    }

    // ---- starting ------------------------------------------------------------------------------

    private static EtcdCluster create(Path binary, Options options, Path directory, int count) {
        int[] ports = freePorts(2 * count);
        String token = "dlm4j-" + UUID.randomUUID();
        List<Member> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new Member(i, "m" + i, ports[2 * i], ports[2 * i + 1], directory.resolve("m" + i)));
        }
        String initialCluster = list.stream().map(m -> m.name + "=" + m.peerUrl()).collect(Collectors.joining(","));
        EtcdCluster cluster = new EtcdCluster(options, directory, List.copyOf(list));
        for (Member m : list) {
            m.init(cluster, binary, initialCluster, token);
        }
        return cluster;
    }

    /** Starts all members and waits until all are healthy. False if some member could not bind a port. */
    private boolean launchAll() {
        for (Member m : members) {
            try {
                Files.createDirectories(m.directory);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + m.directory, e);
            }
            LIVE.add(m);
        }
        for (Member m : members) {
            synchronized (m) {
                m.spawn();
            }
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        List<Member> waiting = new ArrayList<>(members);
        while (true) {
            for (var it = waiting.iterator(); it.hasNext(); ) {
                Member m = it.next();
                synchronized (m) {
                    Process p = m.process;
                    if (!p.isAlive()) {
                        if (m.logSince(0).toLowerCase().contains(BIND_FAILURE)) {
                            return false;
                        }
                        throw new IllegalStateException("etcd " + m.name + " exited with code " + p.exitValue()
                                + "\n" + logTails());
                    }
                    if (m.isServing(p)) {
                        it.remove();
                    }
                }
            }
            if (waiting.isEmpty()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("etcd members " + waiting.stream().map(m -> m.name).toList()
                        + " not healthy within " + START_TIMEOUT.toSeconds() + " s\n" + logTails());
            }
            sleep(POLL_INTERVAL);
        }
    }

    private Member anyMember() {
        checkOpen();
        for (Member m : members) {
            if (m.isAvailable()) {
                return m;
            }
        }
        throw new IllegalStateException("no etcd member is running and unpaused: " + this);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed: " + this);
        }
    }

    private String logTails() {
        StringBuilder sb = new StringBuilder();
        for (Member m : members) {
            sb.append(m.logTail());
        }
        return sb.toString();
    }

    /** Distinct free ports: all sockets are held open until every port is chosen. */
    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket();
                sockets.add(socket);
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // nothing to do
                }
            }
        }
    }

    // ---- one member ----------------------------------------------------------------------------

    /**
     * One etcd process of the cluster. Its ports, name and data folder stay the same across
     * {@link #restart()}.
     */
    public static final class Member {

        private final int index;
        private final String name;
        private final int clientPort;
        private final int peerPort;
        private final Path directory;

        private EtcdCluster cluster;
        private Path binary;
        private String initialCluster;
        private String token;

        /** Read without the lock by the shutdown hook. */
        private volatile Process process;
        /** A fresh client for each process, so no pooled connection to a dead process is reused. */
        private volatile HttpClient http;
        private volatile boolean paused;
        /** The raft member id (decimal uint64), known once the member served. */
        private volatile String id;

        private Member(int index, String name, int clientPort, int peerPort, Path directory) {
            this.index = index;
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
            this.directory = directory;
        }

        private void init(EtcdCluster cluster, Path binary, String initialCluster, String token) {
            this.cluster = cluster;
            this.binary = binary;
            this.initialCluster = initialCluster;
            this.token = token;
        }

        /** {@code "m" + index}. */
        public String name() {
            return name;
        }

        /** The position in the cluster, 0-based. */
        public int index() {
            return index;
        }

        /** {@code http://127.0.0.1:C}. */
        public String endpoint() {
            return "http://" + hostAndPort();
        }

        /** {@code 127.0.0.1:C}. */
        public String hostAndPort() {
            return HOST + ":" + clientPort;
        }

        /** The client port C. */
        public int clientPort() {
            return clientPort;
        }

        /** The peer port P. */
        public int peerPort() {
            return peerPort;
        }

        /** {@code http://127.0.0.1:P}. */
        public String peerUrl() {
            return "http://" + HOST + ":" + peerPort;
        }

        /** The member's folder: {@code data/} and {@code etcd.log}. */
        public Path directory() {
            return directory;
        }

        /** The raft member id as etcd prints it (decimal uint64), or null before the member first served. */
        public String id() {
            return id;
        }

        /** The process id of the current process (or of the last one, once it has ended). */
        public synchronized long pid() {
            return process.pid();
        }

        /** Whether the process is alive; true also while {@linkplain #pause() paused}. */
        public synchronized boolean isRunning() {
            return process != null && process.isAlive();
        }

        /** Whether the member is {@linkplain #pause() paused}. */
        public boolean isPaused() {
            return paused;
        }

        /**
         * The id of the leader as this member sees it ({@code "leader"} of
         * {@code POST /v3/maintenance/status}), or null if it knows none, is not running, is paused, or
         * does not answer within 1 s. Compare with {@link #id()}.
         */
        public String leaderId() {
            String status = statusOrNull();
            return status == null ? null : find(LEADER, status);
        }

        /** Whether {@code GET /health} answers {@code {"health":"true"}} within 1 s (needs a leader and quorum). */
        public boolean isHealthy() {
            try {
                return HEALTHY.matcher(request("GET", "/health", null, PROBE_TIMEOUT).body).find();
            } catch (UncheckedIOException e) {
                return false;
            }
        }

        /**
         * Stops the member gracefully: SIGTERM, up to 10 s to exit, then SIGKILL. A paused member is
         * resumed first. Does nothing if it is not running. A leader first hands its leadership to a
         * follower: quick when one answers, but etcd waits up to 6 s (5 s + 2 election timeouts) for
         * that when none does, e.g. when the followers are stopping too.
         */
        public synchronized void stop() {
            cluster.checkOpen();
            terminate();
            awaitTerminated(STOP_TIMEOUT);
        }

        /** Kills the member with SIGKILL and waits until it has exited. Does nothing if it is not running. */
        public synchronized void kill() {
            cluster.checkOpen();
            Process p = process;
            if (p == null || !p.isAlive()) {
                return;
            }
            p.destroyForcibly();
            if (!ChildProcesses.waitFor(p, STOP_TIMEOUT, "etcd")) {
                throw new IllegalStateException("etcd " + name + " (pid " + p.pid() + ") did not exit after SIGKILL");
            }
            paused = false;
        }

        /**
         * Freezes the member with SIGSTOP: connections stay open, requests and raft messages wait
         * unanswered until {@link #resume()}. Returns once the process is stopped. Requests sent
         * through the cluster helpers ({@link EtcdCluster#get(String)} ...) skip paused members.
         *
         * @throws IllegalStateException if it is not running
         */
        public synchronized void pause() {
            cluster.checkOpen();
            if (paused) {
                return;
            }
            Process p = runningProcess();
            ChildProcesses.signal(p, "STOP");
            ChildProcesses.awaitState(p, true, "etcd");
            paused = true;
        }

        /** Lets a {@linkplain #pause() paused} member run again (SIGCONT). Does nothing if it is not paused. */
        public synchronized void resume() {
            cluster.checkOpen();
            resumeIfPaused();
        }

        /**
         * Starts the member again with the same name, ports and data folder, and waits until it is
         * healthy (up to 20 s; it needs a quorum, counting itself). A running member is
         * {@linkplain #stop() stopped} first. The {@code --initial-cluster*} flags are passed again;
         * etcd ignores them because the data folder holds the member's state, and the member
         * catches up with what the others wrote meanwhile.
         *
         * @throws IllegalStateException if it does not come back healthy
         */
        public synchronized void restart() {
            cluster.checkOpen();
            terminate();
            awaitTerminated(STOP_TIMEOUT);
            long rebindDeadline = System.nanoTime() + REBIND_TIMEOUT.toNanos();
            while (true) {
                long offset = ChildProcesses.size(log());
                Process p = spawn();
                if (awaitServing(p, offset)) {
                    return;
                }
                if (System.nanoTime() - rebindDeadline >= 0) {
                    throw new IllegalStateException("etcd " + name + " could not bind its ports again within "
                            + REBIND_TIMEOUT.toSeconds() + " s\n" + logTail());
                }
                sleep(Duration.ofMillis(100));
            }
        }

        /** {@link EtcdCluster#get(String)} through this member: a linearizable read (needs a quorum). */
        public String get(String key) {
            return decodeValue(kv("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}"));
        }

        /**
         * A serializable read through this member: what this member has applied locally, without
         * asking the leader (answers also without a quorum).
         */
        public String getLocal(String key) {
            return decodeValue(kv("/v3/kv/range", "{\"key\":\"" + b64(key) + "\",\"serializable\":true}"));
        }

        /** {@link EtcdCluster#put(String, String)} through this member. */
        public void put(String key, String value) {
            Objects.requireNonNull(value, "value");
            kv("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
        }

        /** {@link EtcdCluster#delete(String)} through this member. */
        public void delete(String key) {
            kv("/v3/kv/deleterange", "{\"key\":\"" + b64(key) + "\"}");
        }

        /** The cluster's revision as this member answers a linearizable range request. */
        public long revision() {
            String body = kv("/v3/kv/range", "{\"key\":\"AA==\",\"count_only\":true}");
            String revision = find(REVISION, body);
            if (revision == null) {
                throw new IllegalStateException("no revision in etcd's answer: " + body);
            }
            return Long.parseLong(revision);
        }

        @Override
        public String toString() {
            Process p = process;
            return "etcd " + name + "[" + endpoint() + ", peer " + peerUrl()
                    + (p != null ? ", pid " + p.pid() : "") + (paused ? ", paused" : "") + "]";
        }

        // ---- process ----

        private Process spawn() {
            List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                    "--name", name,
                    "--data-dir", directory.resolve("data").toString(),
                    "--listen-client-urls", endpoint(),
                    "--advertise-client-urls", endpoint(),
                    "--listen-peer-urls", peerUrl(),
                    "--initial-advertise-peer-urls", peerUrl(),
                    "--initial-cluster", initialCluster,
                    "--initial-cluster-state", "new",
                    "--initial-cluster-token", token,
                    "--logger", "zap",
                    "--log-outputs", "stderr"));
            cmd.addAll(cluster.options.timingArgs());
            cmd.addAll(cluster.options.extraArgs());
            ProcessBuilder builder = new ProcessBuilder(cmd)
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(k -> k.startsWith("ETCD_") || k.startsWith("ETCDCTL_"));
            try {
                Process p = builder.start();
                http = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(PROBE_TIMEOUT)
                        .build();
                process = p;
                paused = false;
                return p;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + binary, e);
            }
        }

        /**
         * Waits until this process serves; false if it exited after failing to bind a port (a
         * message in the log after {@code logOffset}); throws on other failures and on timeout.
         */
        private boolean awaitServing(Process p, long logOffset) {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                if (!p.isAlive()) {
                    if (logSince(logOffset).toLowerCase().contains(BIND_FAILURE)) {
                        return false;
                    }
                    throw new IllegalStateException("etcd " + name + " exited with code " + p.exitValue()
                            + "\n" + cluster.logTails());
                }
                if (isServing(p)) {
                    return true;
                }
                if (System.nanoTime() - deadline >= 0) {
                    p.destroyForcibly();
                    ChildProcesses.waitFor(p, STOP_TIMEOUT, "etcd");
                    throw new IllegalStateException("etcd " + name + " not healthy within "
                            + START_TIMEOUT.toSeconds() + " s\n" + cluster.logTails());
                }
                if (ChildProcesses.waitFor(p, POLL_INTERVAL, "etcd")) {
                    continue; // exited: the check at the top tells why
                }
            }
        }

        /**
         * Healthy, and it is this member answering: the member whose peer URL is ours has the id in
         * the status header, so no other server that took the client port is mistaken for it.
         */
        private boolean isServing(Process p) {
            if (!p.isAlive() || !isHealthy()) {
                return false;
            }
            try {
                String list = request("POST", "/v3/cluster/member/list", "{}", PROBE_TIMEOUT).body;
                String status = request("POST", "/v3/maintenance/status", "{}", PROBE_TIMEOUT).body;
                String self = find(MEMBER_ID, status);
                Matcher m = MEMBER.matcher(list);
                while (m.find()) {
                    if (m.group(2).contains("\"" + peerUrl() + "\"")) {
                        if (m.group(1).equals(self) && p.isAlive()) {
                            id = self;
                            return true;
                        }
                        return false;
                    }
                }
                return false;
            } catch (UncheckedIOException e) {
                return false;
            }
        }

        /** SIGTERM (after resuming a paused process); does not wait. */
        private synchronized void terminate() {
            Process p = process;
            if (p == null || !p.isAlive()) {
                return;
            }
            resumeIfPaused();
            p.destroy();
        }

        /** Waits for the process to exit after {@link #terminate()}; SIGKILL after {@code grace}. */
        private synchronized void awaitTerminated(Duration grace) {
            Process p = process;
            if (p == null) {
                return;
            }
            if (!ChildProcesses.waitFor(p, grace, "etcd")) {
                p.destroyForcibly();
                ChildProcesses.waitFor(p, STOP_TIMEOUT, "etcd");
            }
            paused = false;
        }

        private synchronized void resumeForClose() {
            try {
                resumeIfPaused();
            } catch (RuntimeException e) {
                killNow();
                throw e;
            }
        }

        /** SIGKILL without waiting, if alive; for clean-up paths. */
        private void killNow() {
            Process p = process;
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
        }

        private boolean isAvailable() {
            Process p = process;
            return p != null && p.isAlive() && !paused;
        }

        private Process runningProcess() {
            Process p = process;
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("etcd " + name + " is not running: " + this);
            }
            return p;
        }

        private void resumeIfPaused() {
            if (!paused) {
                return;
            }
            Process p = process;
            if (p.isAlive()) {
                ChildProcesses.signal(p, "CONT");
                ChildProcesses.awaitState(p, false, "etcd");
            }
            paused = false;
        }

        // ---- HTTP ----

        /** The status JSON, or null if the member is not running, paused, or does not answer in time. */
        private String statusOrNull() {
            if (!isAvailable()) {
                return null;
            }
            try {
                Response r = request("POST", "/v3/maintenance/status", "{}", PROBE_TIMEOUT);
                return r.status == 200 ? r.body : null;
            } catch (UncheckedIOException e) {
                return null;
            }
        }

        private String kv(String path, String body) {
            Response r = request("POST", path, body, REQUEST_TIMEOUT);
            if (r.status != 200 || r.body.contains("\"error\"")) {
                throw new IllegalStateException("etcd " + name + " " + path + " failed: HTTP " + r.status + " " + r.body);
            }
            return r.body;
        }

        private Response request(String method, String path, String body, Duration timeout) {
            HttpClient client = http;
            if (client == null) {
                throw new UncheckedIOException(new ConnectException("etcd " + name + " was never started"));
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint() + path)).timeout(timeout);
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            try {
                HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                return new Response(r.statusCode(), r.body());
            } catch (IOException e) {
                throw new UncheckedIOException(method + " " + endpoint() + path + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while calling etcd " + name, e);
            }
        }

        // ---- files ----

        private Path log() {
            return directory.resolve(LOG);
        }

        private String logSince(long offset) {
            return ChildProcesses.readFrom(log(), offset);
        }

        private String logTail() {
            return "--- tail of " + log() + " ---\n" + ChildProcesses.tail(log(), TAIL_LINES);
        }
    }

    private record Response(int status, String body) {
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static String b64(String s) {
        Objects.requireNonNull(s, "key");
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of the first key in a range answer; null without keys; "" for an empty value (omitted in JSON). */
    private static String decodeValue(String body) {
        if (!body.contains("\"kvs\"")) {
            return null;
        }
        String value = find(VALUE, body);
        return value == null ? "" : new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
    }

    private static String find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    /** A poll interval or back-off; never used to wait for a state (those poll with a deadline). */
    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for etcd", e);
        }
    }

    // ---- no orphans ----------------------------------------------------------------------------

    /** One hook for all members: kills those that were not closed, then deletes their clusters' folders. */
    private static final class ShutdownHook {
        static {
            Runtime.getRuntime().addShutdownHook(new Thread(ShutdownHook::killAll, "dlm4j-etcd-reaper"));
        }

        static void ensureRegistered() {
            // the static initialiser does the work, once
        }

        private static void killAll() {
            List<Member> left = new ArrayList<>(LIVE);
            for (Member m : left) {
                Process p = m.process;
                if (p != null) {
                    p.destroyForcibly(); // SIGKILL also ends a stopped (paused) process
                }
            }
            for (Member m : left) {
                Process p = m.process;
                if (p != null) {
                    try {
                        p.waitFor(2, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (m.cluster != null) {
                    ChildProcesses.deleteRecursively(m.cluster.directory);
                }
            }
        }
    }
}
