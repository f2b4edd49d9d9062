package io.dlm4j.testservers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;

import static io.dlm4j.testservers.EtcdHttp.find;

/**
 * Real {@code etcd} servers (the Debian package etcd-server, etcd 3.4) run as child processes for
 * tests: one member, or several forming one cluster, each on its own free loopback client and peer
 * ports, in its own temporary folder.
 *
 * <p>Why real servers and not a mock: the etcd backend's correctness lives in the server's semantics
 * (transactions comparing revisions, leases expiring on the leader's clock, what a leader change does
 * to a lease). Fault tests also need processes to {@linkplain EtcdMember#kill() kill -9},
 * {@linkplain EtcdMember#pause() freeze with SIGSTOP} and {@linkplain EtcdMember#restart() bring
 * back}.
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
 * EtcdMember leader = etcd.leader();
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
 * <p><b>Timing and leases.</b> By default ({@link EtcdClusterOptions#defaults()}) the members run
 * with {@code --heartbeat-interval 50 --election-timeout 500}, so a new leader is elected within
 * about a second of losing one. This also matters for leases: etcd silently raises a lease's TTL to
 * a minimum derived from the election timeout,
 * {@code ceil(((3 * electionTimeout / heartbeat) / 2) * heartbeat)} in whole seconds, about 1.5 ×
 * the election timeout rounded up. With 500 ms that is 1 s, so 1 s leases are possible; with etcd's
 * own defaults (100 ms / 1000 ms, {@link EtcdClusterOptions#etcdDefaults()}) a 1 s lease is granted
 * as 2 s. {@link EtcdClusterOptions#minimumLeaseTtl()} gives the value. Note also that etcd 3.4
 * does not checkpoint lease TTLs by default: a new leader gives every lease its full TTL again (plus
 * the election timeout), so leases outlive their TTL across a leader change.
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

    /** The message when the binary is missing. */
    static final String NOT_FOUND =
            "etcd not found: run scripts/setup-test-servers (installs the Debian package etcd-server)";

    /** How long {@link #close()} lets each member stop gracefully before SIGKILL. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    private final EtcdClusterOptions options;
    private final Path directory;
    private final List<EtcdMember> members;
    private volatile boolean closed;

    private EtcdCluster(EtcdClusterOptions options, Path directory, List<EtcdMember> members) {
        this.options = options;
        this.directory = directory;
        this.members = members;
    }

    /**
     * Starts a one-member cluster with {@link EtcdClusterOptions#defaults()} and waits until it is
     * healthy.
     */
    public static EtcdCluster startSingle() {
        return start(1, EtcdClusterOptions.defaults());
    }

    /**
     * Starts a cluster of {@code members} members with {@link EtcdClusterOptions#defaults()}; see
     * {@link #start(int, EtcdClusterOptions)}.
     */
    public static EtcdCluster start(int members) {
        return start(members, EtcdClusterOptions.defaults());
    }

    /**
     * Starts {@code members} members forming one new cluster and waits until every one is healthy
     * (up to 20 s). Ports that another process takes between our probe and etcd's bind are replaced
     * by new ones (a few attempts).
     *
     * @throws IllegalStateException if {@code etcd} is not installed or the cluster did not become
     *                               healthy; the message then holds the tail of the member logs
     */
    public static EtcdCluster start(int members, EtcdClusterOptions options) {
        if (members < 1) {
            throw new IllegalArgumentException("members must be at least 1: " + members);
        }
        Objects.requireNonNull(options, "options");
        Path binary = ChildProcesses.findBinary("etcd", NOT_FOUND);
        IllegalStateException last = null;
        for (int attempt = 0; attempt < ChildProcesses.FreePorts.ATTEMPTS; attempt++) {
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
        return members.stream().map(EtcdMember::endpoint).collect(Collectors.toUnmodifiableList());
    }

    /** The dlm4j URI: {@code etcd://127.0.0.1:C0,127.0.0.1:C1,...}. */
    public String endpointsUri() {
        return "etcd://" + members.stream().map(EtcdMember::hostAndPort).collect(Collectors.joining(","));
    }

    /** How many members the cluster has (running or not). */
    public int size() {
        return members.size();
    }

    /** Member {@code i}, named {@code "m" + i}. */
    public EtcdMember member(int i) {
        return members.get(i);
    }

    /** All members, in order. */
    public List<EtcdMember> members() {
        return members;
    }

    /** The settings the members run with. */
    public EtcdClusterOptions options() {
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
    public EtcdMember leader() {
        checkOpen();
        EtcdMember best = null;
        long bestTerm = -1;
        for (EtcdMember m : members) {
            String status = m.statusOrNull();
            if (status == null) {
                continue;
            }
            String self = find(EtcdHttp.MEMBER_ID, status);
            String leader = find(EtcdHttp.LEADER, status);
            String term = find(EtcdHttp.RAFT_TERM, status);
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
    public EtcdMember awaitLeader(Duration timeout) {
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
            sleep(EtcdMember.POLL_INTERVAL);
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
            for (EtcdMember m : members) { // a leader hands over to a follower on SIGTERM: let them answer
                m.resumeForClose();
            }
            for (EtcdMember m : members) {
                try {
                    m.terminate();
                    m.awaitTerminated(CLOSE_GRACE);
                } catch (RuntimeException e) {
                    m.killNow(); // e.g. interrupted: leave no process behind
                    throw e;
                }
            }
        } finally {
            for (EtcdMember m : members) {
                m.killNow();
            }
            closed = true;
            for (EtcdMember m : members) {
                ChildProcesses.Reaper.release(m);
            }
            ChildProcesses.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        return "EtcdCluster[" + endpointsUri() + ", " + directory + "]";
    }

    // ---- starting ------------------------------------------------------------------------------

    private static EtcdCluster create(Path binary, EtcdClusterOptions options, Path directory, int count) {
        int[] ports = ChildProcesses.FreePorts.pick(2 * count);
        String token = "dlm4j-" + UUID.randomUUID();
        List<EtcdMember> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(new EtcdMember(i, "m" + i, ports[2 * i], ports[2 * i + 1], directory.resolve("m" + i)));
        }
        String initialCluster = list.stream().map(m -> m.name() + "=" + m.peerUrl()).collect(Collectors.joining(","));
        EtcdCluster cluster = new EtcdCluster(options, directory, List.copyOf(list));
        for (EtcdMember m : list) {
            m.init(cluster, binary, initialCluster, token);
        }
        return cluster;
    }

    /** Starts all members and waits until all are healthy. False if some member could not bind a port. */
    private boolean launchAll() {
        for (EtcdMember m : members) {
            try {
                Files.createDirectories(m.directory());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + m.directory(), e);
            }
            ChildProcesses.Reaper.watch(m, m::process, directory);
        }
        for (EtcdMember m : members) {
            synchronized (m) {
                m.spawn();
            }
        }
        long deadline = System.nanoTime() + EtcdMember.START_TIMEOUT.toNanos();
        List<EtcdMember> waiting = new ArrayList<>(members);
        while (true) {
            for (var it = waiting.iterator(); it.hasNext(); ) {
                EtcdMember m = it.next();
                synchronized (m) {
                    Process p = m.process();
                    if (!p.isAlive()) {
                        if (m.logSince(0).toLowerCase().contains(EtcdMember.BIND_FAILURE)) {
                            return false;
                        }
                        throw new IllegalStateException("etcd " + m.name() + " exited with code " + p.exitValue()
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
                throw new IllegalStateException("etcd members " + waiting.stream().map(EtcdMember::name).toList()
                        + " not healthy within " + EtcdMember.START_TIMEOUT.toSeconds() + " s\n" + logTails());
            }
            sleep(EtcdMember.POLL_INTERVAL);
        }
    }

    private EtcdMember anyMember() {
        checkOpen();
        for (EtcdMember m : members) {
            if (m.isAvailable()) {
                return m;
            }
        }
        throw new IllegalStateException("no etcd member is running and unpaused: " + this);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed: " + this);
        }
    }

    /** The end of every member's log, for failure messages. */
    String logTails() {
        StringBuilder sb = new StringBuilder();
        for (EtcdMember m : members) {
            sb.append(m.logTail());
        }
        return sb.toString();
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** A poll interval or back-off; never used to wait for a state (those poll with a deadline). */
    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for etcd", e);
        }
    }
}
