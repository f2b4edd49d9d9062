package io.dlm4j.testservers;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;

import static io.dlm4j.testservers.EtcdHttp.b64;
import static io.dlm4j.testservers.EtcdHttp.decodeValue;
import static io.dlm4j.testservers.EtcdHttp.find;

/**
 * One etcd process of an {@link EtcdCluster}. Its ports, name and data folder stay the same across
 * {@link #restart()}.
 */
public final class EtcdMember {

    private static final String HOST = ChildProcesses.FreePorts.HOST;
    /** How long a member has to become healthy, at the cluster's start and at a restart. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #restart()} keeps trying when its old ports cannot be bound yet. */
    private static final Duration REBIND_TIMEOUT = Duration.ofSeconds(5);
    static final Duration POLL_INTERVAL = Duration.ofMillis(50);
    /** In the log of a member that exited because another process holds one of its ports. */
    static final String BIND_FAILURE = "address already in use";
    private static final String LOG = "etcd.log";
    private static final int TAIL_LINES = 20;

    private final int index;
    private final String name;
    private final int clientPort;
    private final int peerPort;
    private final Path directory;

    private EtcdCluster cluster;
    private Path binary;
    private String initialCluster;
    private String token;

    /** Read without the lock by the shutdown hook ({@link ChildProcesses.Reaper}). */
    private volatile Process process;
    /** Replaced with each process; see {@link EtcdHttp}. */
    private volatile EtcdHttp http;
    private volatile boolean paused;
    /** The raft member id (decimal uint64), known once the member served. */
    private volatile String id;

    EtcdMember(int index, String name, int clientPort, int peerPort, Path directory) {
        this.index = index;
        this.name = name;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.directory = directory;
    }

    /** What a member learns once all members of its cluster exist. */
    void init(EtcdCluster cluster, Path binary, String initialCluster, String token) {
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
        return status == null ? null : find(EtcdHttp.LEADER, status);
    }

    /** Whether {@code GET /health} answers {@code {"health":"true"}} within 1 s (needs a leader and quorum). */
    public boolean isHealthy() {
        try {
            String body = http().request("GET", "/health", null, EtcdHttp.PROBE_TIMEOUT).body();
            return EtcdHttp.HEALTHY.matcher(body).find();
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
            EtcdCluster.sleep(Duration.ofMillis(100));
        }
    }

    /** {@link EtcdCluster#get(String)} through this member: a linearizable read (needs a quorum). */
    public String get(String key) {
        return decodeValue(http().kv("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}"));
    }

    /**
     * A serializable read through this member: what this member has applied locally, without
     * asking the leader (answers also without a quorum).
     */
    public String getLocal(String key) {
        return decodeValue(http().kv("/v3/kv/range", "{\"key\":\"" + b64(key) + "\",\"serializable\":true}"));
    }

    /** {@link EtcdCluster#put(String, String)} through this member. */
    public void put(String key, String value) {
        Objects.requireNonNull(value, "value");
        http().kv("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
    }

    /** {@link EtcdCluster#delete(String)} through this member. */
    public void delete(String key) {
        http().kv("/v3/kv/deleterange", "{\"key\":\"" + b64(key) + "\"}");
    }

    /** The cluster's revision as this member answers a linearizable range request. */
    public long revision() {
        String body = http().kv("/v3/kv/range", "{\"key\":\"AA==\",\"count_only\":true}");
        String revision = find(EtcdHttp.REVISION, body);
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

    // ---- process, for the cluster ----------------------------------------------------------------

    /** The current process, or null before the first start; read without the lock. */
    Process process() {
        return process;
    }

    Process spawn() {
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
        cmd.addAll(cluster.options().timingArgs());
        cmd.addAll(cluster.options().extraArgs());
        ProcessBuilder builder = new ProcessBuilder(cmd)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("ETCD_") || k.startsWith("ETCDCTL_"));
        try {
            Process p = builder.start();
            http = new EtcdHttp(endpoint(), name);
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
    boolean isServing(Process p) {
        if (!p.isAlive() || !isHealthy()) {
            return false;
        }
        try {
            String list = http().request("POST", "/v3/cluster/member/list", "{}", EtcdHttp.PROBE_TIMEOUT).body();
            String status = http().request("POST", "/v3/maintenance/status", "{}", EtcdHttp.PROBE_TIMEOUT).body();
            String self = find(EtcdHttp.MEMBER_ID, status);
            Matcher m = EtcdHttp.MEMBER.matcher(list);
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
    synchronized void terminate() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        resumeIfPaused();
        p.destroy();
    }

    /** Waits for the process to exit after {@link #terminate()}; SIGKILL after {@code grace}. */
    synchronized void awaitTerminated(Duration grace) {
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

    synchronized void resumeForClose() {
        try {
            resumeIfPaused();
        } catch (RuntimeException e) {
            killNow();
            throw e;
        }
    }

    /** SIGKILL without waiting, if alive; for clean-up paths. */
    void killNow() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
    }

    boolean isAvailable() {
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

    // ---- HTTP ------------------------------------------------------------------------------------

    /** The status JSON, or null if the member is not running, paused, or does not answer in time. */
    String statusOrNull() {
        if (!isAvailable()) {
            return null;
        }
        try {
            EtcdHttp.Response r = http().request("POST", "/v3/maintenance/status", "{}", EtcdHttp.PROBE_TIMEOUT);
            return r.status() == 200 ? r.body() : null;
        } catch (UncheckedIOException e) {
            return null;
        }
    }

    private EtcdHttp http() {
        EtcdHttp client = http;
        if (client == null) {
            throw new UncheckedIOException(new ConnectException("etcd " + name + " was never started"));
        }
        return client;
    }

    // ---- files -----------------------------------------------------------------------------------

    private Path log() {
        return directory.resolve(LOG);
    }

    String logSince(long offset) {
        return ChildProcesses.readFrom(log(), offset);
    }

    String logTail() {
        return "--- tail of " + log() + " ---\n" + ChildProcesses.tail(log(), TAIL_LINES);
    }
}
