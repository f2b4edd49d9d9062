package io.dlm4j.testservers;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A real {@code redis-server} (the Debian package, Redis 7.0) run as a child process for tests, on a
 * free loopback port, in its own temporary folder.
 *
 * <p>Why a real server and not a mock: the Redis backend's correctness lives in the server's
 * semantics (atomic Lua scripts, {@code PX} expiry on the server's clock, {@code INCR} for fencing,
 * what survives a crash of the server process). A mock would only repeat our own
 * assumptions. Fault tests also need a process to {@linkplain #kill() kill -9},
 * {@linkplain #pause() freeze with SIGSTOP} and {@linkplain #restart() bring back}, which only a
 * real server has.
 *
 * <p>Use:
 * <pre>{@code
 * static RedisServer redis;
 *
 * @BeforeAll static void startRedis() { redis = RedisServer.start(); }
 * @AfterAll  static void stopRedis()  { redis.close(); }
 *
 * // a client connects to redis.uri(), e.g. "redis://127.0.0.1:41234"
 * redis.command("FLUSHALL");                                    // "+OK"
 *
 * // faults
 * RedisServer durable = RedisServer.start(RedisServer.Options.builder().persistent(true).build());
 * durable.kill();       // SIGKILL; with persistent(true) every acknowledged write survives
 * durable.restart();    // same port, same folder
 * durable.pause();      // SIGSTOP: connections stay open, nothing answers
 * durable.resume();     // SIGCONT
 * }</pre>
 *
 * <p>The server is started with {@code --bind 127.0.0.1 --port P --dir <tmp> --daemonize no
 * --protected-mode no --logfile <tmp>/redis.log}; its stdout and stderr go to {@code <tmp>/redis.out}.
 * A JVM shutdown hook kills every server that was not closed, so a test run leaves no orphans
 * (except when the JVM itself is killed with SIGKILL).
 *
 * <p>If {@code redis-server} is not installed, {@link #start()} throws an
 * {@link IllegalStateException} that names {@code scripts/setup-test-servers}.
 *
 * <p>Methods are thread-safe. Linux only ({@code pause()} and {@code resume()} run {@code kill}).
 */
public final class RedisServer implements AutoCloseable {

    /** The settings of a {@link RedisServer}. Immutable; made with {@link #builder()}. */
    public static final class Options {

        private final boolean persistent;
        private final List<String> extraArgs;

        private Options(Builder b) {
            this.persistent = b.persistent;
            this.extraArgs = List.copyOf(b.extraArgs);
        }

        /** Not persistent, no extra arguments. */
        public static Options defaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /**
         * Whether every write is appended to the append-only file before it is acknowledged
         * ({@code --appendonly yes --appendfsync no}), so data survives {@link #restart()} after
         * {@link #stop()} or {@link #kill()}: Redis writes the file before it replies, and what is
         * written survives the death of the process. Not fsynced, because the only crash a test can
         * cause is a process's, and because the servers of one test share a disk: with
         * {@code appendfsync always} one slow fsync stalls every "independent" Redlock master at
         * once (seen as a fencing test's acquire that no master answered in time). When false ({@code --save "" --appendonly no}) a
         * restart comes back empty. By default false.
         */
        public boolean persistent() {
            return persistent;
        }

        /** Arguments appended to the command line, e.g. {@code "--maxmemory", "16mb"}. */
        public List<String> extraArgs() {
            return extraArgs;
        }

        public static final class Builder {
            private boolean persistent;
            private final List<String> extraArgs = new ArrayList<>();

            private Builder() {
            }

            /** See {@link Options#persistent()}. */
            public Builder persistent(boolean persistent) {
                this.persistent = persistent;
                return this;
            }

            /** Adds arguments to the command line; see {@link Options#extraArgs()}. */
            public Builder extraArgs(String... args) {
                for (String arg : args) {
                    extraArgs.add(Objects.requireNonNull(arg, "arg"));
                }
                return this;
            }

            public Options build() {
                return new Options(this);
            }
        }
    }

    /** The message when the binary is missing. */
    static final String NOT_FOUND =
            "redis-server not found: run scripts/setup-test-servers (installs the Debian package redis-server)";

    private static final String HOST = ChildProcesses.FreePorts.HOST;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@link #restart()} keeps trying when the old port cannot be bound yet. */
    private static final Duration REBIND_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    private static final String LOG = "redis.log";
    private static final String OUT = "redis.out";
    private static final int TAIL_LINES = 30;

    private final Path binary;
    private final Options options;
    private final Path directory;
    private final int port;

    /** Read without the lock by the shutdown hook ({@link ChildProcesses.Reaper}). */
    private volatile Process process;
    private boolean paused;
    private boolean closed;

    private RedisServer(Path binary, Options options, Path directory, int port) {
        this.binary = binary;
        this.options = options;
        this.directory = directory;
        this.port = port;
    }

    /** Starts a non-persistent server and waits until it answers {@code PING}. */
    public static RedisServer start() {
        return start(Options.defaults());
    }

    /**
     * Starts a server and waits until it answers {@code PING} (up to 10 s).
     *
     * @throws IllegalStateException if {@code redis-server} is not installed, or it did not start;
     *                               the message then holds the tail of its log
     */
    public static RedisServer start(Options options) {
        Objects.requireNonNull(options, "options");
        Path binary = ChildProcesses.findBinary("redis-server", NOT_FOUND);
        Path directory;
        try {
            directory = Files.createTempDirectory("dlm4j-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for redis-server", e);
        }
        IllegalStateException last = null;
        for (int attempt = 0; attempt < ChildProcesses.FreePorts.ATTEMPTS; attempt++) {
            RedisServer server = new RedisServer(binary, options, directory, ChildProcesses.FreePorts.pick(1)[0]);
            ChildProcesses.Reaper.watch(server, () -> server.process, directory);
            try {
                synchronized (server) {
                    if (server.launch(Duration.ZERO)) {
                        return server;
                    }
                }
                // Someone else took the port between our probe and redis's bind: try another one.
                last = new IllegalStateException("redis-server could not bind port " + server.port);
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
            ChildProcesses.Reaper.release(server);
        }
        ChildProcesses.deleteRecursively(directory);
        throw last;
    }

    /** {@code 127.0.0.1}. */
    public String host() {
        return HOST;
    }

    /** The port; the same across {@link #restart()}. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}. */
    public String hostAndPort() {
        return HOST + ":" + port;
    }

    /** {@code redis://127.0.0.1:port}. */
    public String uri() {
        return "redis://" + hostAndPort();
    }

    /** The server's folder: its data, {@code redis.log} and {@code redis.out}. Deleted by {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /** The process id of the current server process (or of the last one, once it has ended). */
    public synchronized long pid() {
        return process.pid();
    }

    /** Whether the server process is alive; true also while {@linkplain #pause() paused}. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Stops the server gracefully: SIGTERM, up to 10 s to exit, then SIGKILL. A paused server is
     * resumed first. Does nothing if it is not running.
     */
    public synchronized void stop() {
        checkOpen();
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        resumeIfPaused();
        p.destroy();
        if (!ChildProcesses.waitFor(p, STOP_TIMEOUT, "redis-server")) {
            p.destroyForcibly();
            ChildProcesses.waitFor(p, STOP_TIMEOUT, "redis-server");
        }
        paused = false;
    }

    /**
     * Kills the server with SIGKILL ({@code kill -9}) and waits until it has exited. With
     * {@link Options#persistent()} every acknowledged write survives. Does nothing if it is not running.
     */
    public synchronized void kill() {
        checkOpen();
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroyForcibly();
        if (!ChildProcesses.waitFor(p, STOP_TIMEOUT, "redis-server")) {
            throw new IllegalStateException("redis-server (pid " + p.pid() + ") did not exit after SIGKILL");
        }
        paused = false;
    }

    /**
     * Freezes the server with SIGSTOP: connections stay open and requests wait unanswered until
     * {@link #resume()}. Returns once the process is stopped.
     *
     * @throws IllegalStateException if it is not running
     */
    public synchronized void pause() {
        checkOpen();
        if (paused) {
            return;
        }
        Process p = runningProcess();
        ChildProcesses.signal(p, "STOP");
        ChildProcesses.awaitState(p, true, "redis-server");
        paused = true;
    }

    /** Lets a {@linkplain #pause() paused} server run again (SIGCONT). Does nothing if it is not paused. */
    public synchronized void resume() {
        checkOpen();
        resumeIfPaused();
    }

    /**
     * Starts the server again on the same port and in the same folder, so a
     * {@linkplain Options#persistent() persistent} server gets its data back, and waits until it
     * answers {@code PING}. A running server is {@linkplain #stop() stopped} first.
     *
     * @throws IllegalStateException if it does not come back
     */
    public synchronized void restart() {
        checkOpen();
        stop();
        if (!launch(REBIND_TIMEOUT)) {
            throw new IllegalStateException("redis-server could not bind port " + port + " again within "
                    + REBIND_TIMEOUT.toSeconds() + " s\n" + logTail());
        }
    }

    /**
     * Sends one command and returns the first line of the reply: a simple string, error or integer
     * as received ({@code "+OK"}, {@code "-ERR ..."}, {@code ":1"}), the body of a bulk string
     * ({@code GET k} gives {@code "v"}, {@code INFO} gives its text), {@code null} for a null bulk
     * string, and the header line for an array ({@code "*2"}). Opens a new connection for each call;
     * waits up to 5 s for the reply.
     *
     * @throws UncheckedIOException if the server cannot be reached or does not answer in time
     */
    public String command(String... args) {
        return command(COMMAND_TIMEOUT, args);
    }

    /**
     * {@link #command(String...)} with a deadline for connecting and for the reply; a reply that
     * does not come in time throws an {@link UncheckedIOException} caused by a
     * {@link java.net.SocketTimeoutException}.
     */
    public String command(Duration timeout, String... args) {
        return send(port, timeout, args);
    }

    /**
     * Stops the server if it runs (resuming it first if paused) and deletes its folder. Idempotent;
     * safe to call from {@code @AfterAll} whatever state the server is in.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            stop();
        } finally {
            closed = true;
            ChildProcesses.Reaper.release(this);
            ChildProcesses.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        Process p = process;
        return "RedisServer[" + uri() + (p != null ? ", pid " + p.pid() : "") + ", " + directory + "]";
    }

    // ---- starting ----------------------------------------------------------------------------

    /**
     * Starts the process and waits until it answers. Returns false if it could not bind the port
     * and {@code rebindFor} has passed (tries again until then); throws on any other failure.
     */
    private boolean launch(Duration rebindFor) {
        long rebindDeadline = System.nanoTime() + rebindFor.toNanos();
        while (true) {
            long logOffset = ChildProcesses.size(directory.resolve(LOG));
            Process p;
            try {
                p = new ProcessBuilder(commandLine())
                        .directory(directory.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(directory.resolve(OUT).toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + binary, e);
            }
            process = p;
            paused = false;
            if (awaitAnswer(p)) {
                return true;
            }
            if (!ChildProcesses.readFrom(directory.resolve(LOG), logOffset).contains("Address already in use")) {
                throw new IllegalStateException("redis-server exited with code " + p.exitValue()
                        + " on port " + port + "\n" + logTail());
            }
            if (System.nanoTime() - rebindDeadline >= 0) {
                return false;
            }
            try { // a short back-off before binding again
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while restarting redis-server", e);
            }
        }
    }

    private List<String> commandLine() {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                "--bind", HOST,
                "--port", Integer.toString(port),
                "--dir", directory.toString(),
                "--daemonize", "no",
                "--protected-mode", "no",
                "--logfile", directory.resolve(LOG).toString()));
        if (options.persistent()) {
            cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "no"));
        } else {
            cmd.addAll(List.of("--save", "", "--appendonly", "no"));
        }
        cmd.addAll(options.extraArgs());
        return cmd;
    }

    /**
     * Polls with {@code PING} until this process answers {@code +PONG}. Returns false if the process
     * exited; throws if it neither answers nor exits within the start timeout.
     */
    private boolean awaitAnswer(Process p) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!p.isAlive()) {
                return false;
            }
            if (answersAsThisProcess(p)) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                p.destroyForcibly();
                ChildProcesses.waitFor(p, STOP_TIMEOUT, "redis-server");
                throw new IllegalStateException("redis-server did not answer PING on port " + port + " within "
                        + START_TIMEOUT.toSeconds() + " s\n" + logTail());
            }
            if (ChildProcesses.waitFor(p, Duration.ofMillis(20), "redis-server")) {
                return false;
            }
        }
    }

    /** PONG from our own process, not from another one that took the port. */
    private boolean answersAsThisProcess(Process p) {
        try {
            if (!"+PONG".equals(send(port, Duration.ofMillis(500), "PING"))) {
                return false; // e.g. -LOADING while the append-only file is read back
            }
            String info = send(port, Duration.ofMillis(500), "INFO", "server");
            return info != null && info.contains("process_id:" + p.pid() + "\r\n");
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    // ---- signals -------------------------------------------------------------------------------

    private Process runningProcess() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("redis-server is not running: " + this);
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
            ChildProcesses.awaitState(p, false, "redis-server");
        }
        paused = false;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed: " + this);
        }
    }

    // ---- RESP ----------------------------------------------------------------------------------

    private static String send(int port, Duration timeout, String... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("no command");
        }
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), millis);
            socket.setSoTimeout(millis);
            OutputStream out = socket.getOutputStream();
            out.write(encode(args));
            out.flush();
            return readReply(new BufferedInputStream(socket.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", args) + " to " + HOST + ":" + port + ": " + e, e);
        }
    }

    /** An array of bulk strings: {@code *<n>\r\n} then {@code $<len>\r\n<bytes>\r\n} for each. */
    static byte[] encode(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String arg : args) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(bytes);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    static String readReply(InputStream in) throws IOException {
        String line = readLine(in);
        if (line.isEmpty()) {
            throw new IOException("empty reply line");
        }
        if (line.charAt(0) != '$') {
            return line; // +simple, -error, :integer, or the header of another type
        }
        int length;
        try {
            length = Integer.parseInt(line.substring(1));
        } catch (NumberFormatException e) {
            throw new IOException("bad bulk length: " + line, e);
        }
        if (length < 0) {
            return null;
        }
        byte[] body = in.readNBytes(length);
        if (body.length != length || in.read() != '\r' || in.read() != '\n') {
            throw new IOException("truncated bulk reply");
        }
        return new String(body, StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed before the reply ended");
            }
            if (b == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("CR without LF in reply");
                }
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }

    // ---- files ---------------------------------------------------------------------------------

    private String logTail() {
        return "--- tail of " + directory.resolve(LOG) + " ---\n" + ChildProcesses.tail(directory.resolve(LOG), TAIL_LINES)
                + "--- tail of " + directory.resolve(OUT) + " ---\n" + ChildProcesses.tail(directory.resolve(OUT), TAIL_LINES);
    }
}
