package io.dlm4j.testservers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL server (the Debian package, PostgreSQL 15) run as a child process for tests, on
 * a free loopback port, in its own temporary folder.
 *
 * <p>Why a real server: a JDBC lock backend's correctness lives in the server's semantics (unique
 * constraints, row locks, transaction isolation, what a crash of the server keeps), which no mock
 * has; fault tests also need a process to {@linkplain #kill() kill -9}, {@linkplain #pause()
 * freeze} and {@linkplain #restart() bring back}.
 *
 * <p>Use:
 * <pre>{@code
 * try (PostgresServer pg = PostgresServer.start()) {
 *     Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
 *     pg.createDatabase("locks");
 *     pg.createUser("reader", "pw", true);        // may connect and SELECT only
 *     pg.sql("SELECT count(*) FROM pg_stat_activity");
 *     pg.kill(); pg.restart();                      // committed data survives
 *     pg.pause(); pg.resume();                      // the postmaster and every backend frozen
 *     assertThat(pg.log()).doesNotContain("ERROR:");
 * }
 * }</pre>
 *
 * <p>Fast start: {@code initdb} runs once per JVM into a template folder, which each server copies
 * ({@code cp -a}); the template's superuser is {@code postgres} with a password made per JVM
 * ({@link #password()}), checked with scram-sha-256 for TCP connections from 127.0.0.1, while
 * {@link #sql} comes in over the server's unix socket (trust). The server runs with
 * {@code fsync=off} and {@code full_page_writes=off}: nothing a test does can crash the machine,
 * only the process, and without fsync a commit costs a write(2). {@code synchronous_commit} stays
 * {@code on}, so every acknowledged commit is in the kernel when the client hears of it and survives
 * {@link #kill()}; with {@code off} a kill right after 100 commits lost 27 of them (they were still in
 * the WAL buffers in shared memory).
 *
 * <p>Root: PostgreSQL refuses to run as root, so when the JVM runs as root (the CI machine) initdb,
 * postgres and psql run as the {@code postgres} OS user the package creates ({@code setpriv}, which
 * execs, so {@link #pid()} is the postmaster's), and the server's folder is chowned to it.
 * Otherwise they run as the current user.
 *
 * <p>The server's stderr is its log ({@code <dir>/postgres.log}, {@code logging_collector=off}): a
 * failed statement shows there as {@code ERROR:} followed by {@code STATEMENT:}, so a test can
 * assert that {@link #log()} holds no, say, {@code duplicate key} error.
 *
 * <p>If PostgreSQL is not installed, {@link #start()} throws an {@link IllegalStateException} that
 * names {@code scripts/setup-test-servers}. Methods are thread-safe. Linux only.
 */
public final class PostgresServer implements AutoCloseable {

    /** The settings of a {@link PostgresServer}. Immutable; made with {@link #builder()}. */
    public static final class Options {

        private final Map<String, String> settings;

        private Options(Builder b) {
            this.settings = Map.copyOf(b.settings);
        }

        /** No extra settings. */
        public static Options defaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /**
         * Server settings passed as {@code -c name=value} after the launcher's own, so they override
         * them, e.g. {@code max_connections=20} or {@code log_min_duration_statement=0}.
         */
        public Map<String, String> settings() {
            return settings;
        }

        public static final class Builder {
            private final Map<String, String> settings = new LinkedHashMap<>();

            private Builder() {
            }

            /** See {@link Options#settings()}. */
            public Builder setting(String name, String value) {
                settings.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
                return this;
            }

            public Options build() {
                return new Options(this);
            }
        }
    }

    /** The message when PostgreSQL is missing. */
    static final String NOT_FOUND = "PostgreSQL not found in /usr/lib/postgresql/*/bin: run scripts/setup-test-servers"
            + " (installs the Debian package postgresql)";

    private static final String HOST = ChildProcesses.FreePorts.HOST;
    private static final String NAME = "postgres";
    private static final String SUPERUSER = "postgres";
    /** The OS user that runs the server when the JVM runs as root. */
    private static final String OS_USER = "postgres";
    private static final String LOG = "postgres.log";
    private static final String DATA = "data";
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final Template template;
    private final Options options;
    private final Path directory;
    private final int port;
    private final ServerProcess server;
    /**
     * Users that may write: each new database grants them CREATE on its schema public. Concurrent,
     * so that the methods that run psql need not hold the lock that {@link #resume()} needs.
     */
    private final Set<String> writers = new CopyOnWriteArraySet<>();
    private boolean closed;

    private PostgresServer(Template template, Options options, Path directory, int port) {
        this.template = template;
        this.options = options;
        this.directory = directory;
        this.port = port;
        this.server = new ServerProcess(NAME, port, this::commandLine, directory, directory.resolve(LOG),
                "database system is ready to accept connections", "INT");
    }

    /** Starts a server with the default settings and waits until it accepts connections. */
    public static PostgresServer start() {
        return start(Options.defaults());
    }

    /**
     * Starts a server and waits until it accepts connections (up to 30 s). The first start in a JVM
     * also runs initdb for the template (about half a second).
     *
     * @throws IllegalStateException if PostgreSQL is not installed, or it did not start; the
     *                               message then holds the tail of its log
     */
    public static PostgresServer start(Options options) {
        return start(options, () -> ChildProcesses.FreePorts.pick(1)[0]);
    }

    /** {@link #start(Options)} on the ports {@code ports} gives, one per attempt; for the tests of the retry. */
    static PostgresServer start(Options options, IntSupplier ports) {
        Objects.requireNonNull(options, "options");
        Template template = Template.get();
        Path directory = template.newServerFolder();
        IllegalStateException last = null;
        for (int attempt = 0; attempt < ChildProcesses.FreePorts.ATTEMPTS; attempt++) {
            PostgresServer pg = new PostgresServer(template, options, directory, ports.getAsInt());
            ChildProcesses.Reaper.watch(pg, pg.server::process, directory);
            try {
                synchronized (pg) {
                    if (pg.server.launch(Duration.ZERO)) {
                        return pg;
                    }
                }
                last = new IllegalStateException("postgres could not bind port " + pg.port);
            } catch (RuntimeException | Error e) {
                pg.close();
                throw e;
            }
            ChildProcesses.Reaper.release(pg);
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

    /** {@code jdbc:postgresql://127.0.0.1:port/postgres}. */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    /** {@code jdbc:postgresql://127.0.0.1:port/<database>}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + Objects.requireNonNull(database, "database");
    }

    /** {@code postgres}, the superuser. */
    public String user() {
        return SUPERUSER;
    }

    /** The superuser's password: random, the same for every server of this JVM. */
    public String password() {
        return template.password;
    }

    /** The server's folder: {@code data/}, {@code postgres.log} and the unix socket. Deleted by {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /** The postmaster's process id (of the current process, or of the last one once it ended). */
    public synchronized long pid() {
        return server.pid();
    }

    /** Whether the postmaster is alive; true also while {@linkplain #pause() paused}. */
    public synchronized boolean isRunning() {
        return server.isRunning();
    }

    /** Creates a database owned by the superuser; users made with {@code readOnly = false} may create tables in it. */
    public void createDatabase(String name) {
        checkIdentifier(name);
        sql("CREATE DATABASE " + name);
        for (String writer : writers) {
            sql(name, "GRANT CREATE, USAGE ON SCHEMA public TO " + writer);
        }
    }

    /**
     * Creates a login role with a password (checked over TCP). With {@code readOnly} it may connect
     * to every database and SELECT from every table ({@code pg_read_all_data}), and nothing else:
     * no INSERT, UPDATE, DELETE, no CREATE. Otherwise it also may write every table
     * ({@code pg_write_all_data}) and create tables in schema {@code public} of every database,
     * also of those made later by {@link #createDatabase}.
     */
    public void createUser(String name, String password, boolean readOnly) {
        checkIdentifier(name);
        sql("CREATE ROLE " + name + " LOGIN PASSWORD " + literal(password));
        sql("GRANT pg_read_all_data TO " + name);
        if (readOnly) {
            return;
        }
        sql("GRANT pg_write_all_data TO " + name);
        for (String database : sql("SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template1'")
                .strip().split("\n")) {
            sql(database, "GRANT CREATE, USAGE ON SCHEMA public TO " + name);
        }
        writers.add(name);
    }

    /** {@link #sql(String, String)} in database {@code postgres}. */
    public String sql(String statement) {
        return sql("postgres", statement);
    }

    /**
     * Runs one statement (or several separated by {@code ;}, in one transaction) with {@code psql}
     * as the superuser over the unix socket, and returns what psql printed: the rows unaligned,
     * {@code |} between columns, without header ({@code -A -t}), e.g. {@code "1\n"} for
     * {@code SELECT 1}. Waits up to 30 s; a paused server makes it time out.
     *
     * @throws IllegalStateException with psql's error message if the statement failed
     */
    public String sql(String database, String statement) {
        List<String> cmd = new ArrayList<>(template.runAs());
        cmd.addAll(List.of(template.bin.resolve("psql").toString(),
                "-h", directory.toString(), "-p", Integer.toString(port), "-U", SUPERUSER, "-d", database,
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement));
        ChildProcesses.Result r = ChildProcesses.run(cmd, CLIENT_TIMEOUT);
        if (!r.ok()) {
            throw new IllegalStateException("psql failed (exit " + r.exitCode() + ") on " + statement + ": "
                    + r.err().strip());
        }
        return r.out();
    }

    /** What the server logged so far: its stderr, across restarts. */
    public String log() {
        return ChildProcesses.readFrom(directory.resolve(LOG), 0);
    }

    /**
     * Stops the server with a fast shutdown (SIGINT: clients are disconnected, not waited for), up
     * to 10 s, then SIGKILL. A paused server is resumed first. Does nothing if it is not running.
     */
    public synchronized void stop() {
        checkOpen();
        server.stop();
    }

    /**
     * SIGKILL to the postmaster and every child (killing the postmaster alone would leave backends
     * holding the shared memory, and a restart would refuse to start); waits until all are gone.
     * Committed data survives; {@link #restart()} recovers from the WAL. Does nothing if not running.
     */
    public synchronized void kill() {
        checkOpen();
        server.kill();
    }

    /**
     * Freezes the postmaster and every backend with SIGSTOP: connections stay open, nothing answers,
     * and no new connection is served, until {@link #resume()}. Returns once all are stopped.
     *
     * @throws IllegalStateException if it is not running
     */
    public synchronized void pause() {
        checkOpen();
        server.pause();
    }

    /** Lets a {@linkplain #pause() paused} server run again (SIGCONT to all). Does nothing if not paused. */
    public synchronized void resume() {
        checkOpen();
        server.resume();
    }

    /**
     * Starts the server again on the same port and folder (stopping it first if it runs), and waits
     * until it accepts connections; after {@link #kill()} it first replays its WAL.
     */
    public synchronized void restart() {
        checkOpen();
        server.restart();
    }

    /** Stops the server if it runs and deletes its folder. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            server.stop();
        } finally {
            closed = true;
            ChildProcesses.Reaper.release(this);
            ChildProcesses.deleteRecursively(directory);
        }
    }

    @Override
    public String toString() {
        Process p = server.process();
        return "PostgresServer[" + jdbcUrl() + (p != null ? ", pid " + p.pid() : "") + ", " + directory + "]";
    }

    private List<String> commandLine() {
        List<String> cmd = new ArrayList<>(template.runAs());
        cmd.addAll(List.of(template.bin.resolve("postgres").toString(),
                "-D", directory.resolve(DATA).toString(),
                "-p", Integer.toString(port),
                "-c", "listen_addresses=" + HOST,
                "-c", "unix_socket_directories=" + directory,
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
                "-c", "logging_collector=off"));
        options.settings().forEach((name, value) -> cmd.addAll(List.of("-c", name + "=" + value)));
        return cmd;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("closed: " + this);
        }
    }

    private static void checkIdentifier(String name) {
        if (name == null || !IDENTIFIER.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain identifier: " + name);
        }
    }

    private static String literal(String text) {
        return "'" + Objects.requireNonNull(text, "password").replace("'", "''") + "'";
    }

    /**
     * The initdb output of this JVM, made on first use and deleted at exit, and what running the
     * server's programs needs: their folder and the OS user.
     */
    private static final class Template {

        private static Template instance;

        final Path bin;
        final Path folder;
        final String password;
        final boolean asRoot;

        private Template(Path bin, Path folder, String password, boolean asRoot) {
            this.bin = bin;
            this.folder = folder;
            this.password = password;
            this.asRoot = asRoot;
        }

        static synchronized Template get() {
            if (instance == null) {
                instance = create();
            }
            return instance;
        }

        private static Template create() {
            Path bin = newestBin();
            boolean asRoot = "root".equals(System.getProperty("user.name"));
            Path folder;
            try {
                folder = Files.createTempDirectory("dlm4j-postgres-template-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for initdb", e);
            }
            ChildProcesses.Reaper.watch(new Object(), () -> null, folder); // deleted at exit
            String password = Passwords.random();
            Template t = new Template(bin, folder, password, asRoot);
            try {
                Path pwfile = folder.resolve("pwfile");
                Files.writeString(pwfile, password + "\n");
                t.chown(folder);
                List<String> cmd = new ArrayList<>(t.runAs());
                cmd.addAll(List.of(bin.resolve("initdb").toString(),
                        "-D", folder.resolve(DATA).toString(),
                        "-U", SUPERUSER, "--pwfile=" + pwfile,
                        "--auth-local=trust", "--auth-host=scram-sha-256",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
                ChildProcesses.Result r = ChildProcesses.run(cmd, Duration.ofSeconds(120));
                if (!r.ok()) {
                    throw new IllegalStateException("initdb failed (exit " + r.exitCode() + "):\n" + r.out() + r.err());
                }
                Files.delete(pwfile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the initdb template in " + folder, e);
            }
            return t;
        }

        /** A new server's folder, with a copy of the template's data folder. */
        Path newServerFolder() {
            Path directory;
            try {
                directory = Files.createTempDirectory("dlm4j-postgres-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for postgres", e);
            }
            chown(directory);
            ChildProcesses.Result r = ChildProcesses.run(List.of("cp", "-a",
                    folder.resolve(DATA).toString(), directory.resolve(DATA).toString()), Duration.ofSeconds(60));
            if (!r.ok()) {
                ChildProcesses.deleteRecursively(directory);
                throw new IllegalStateException("cannot copy the postgres template: " + r.err());
            }
            return directory;
        }

        /** {@code setpriv} to the postgres OS user when the JVM runs as root, else nothing. */
        List<String> runAs() {
            return asRoot ? List.of("setpriv", "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups") : List.of();
        }

        void chown(Path path) {
            if (!asRoot) {
                return;
            }
            ChildProcesses.Result r = ChildProcesses.run(List.of("chown", "-R", OS_USER + ":" + OS_USER, path.toString()),
                    Duration.ofSeconds(30));
            if (!r.ok()) {
                throw new IllegalStateException("cannot chown " + path + " to " + OS_USER + " (" + r.err().strip()
                        + "); the Debian package postgresql creates that user: " + NOT_FOUND);
            }
        }

        /** The {@code bin} folder of the newest /usr/lib/postgresql/<major>. */
        private static Path newestBin() {
            Path root = Paths.get("/usr/lib/postgresql");
            List<Path> found = new ArrayList<>();
            if (Files.isDirectory(root)) {
                try (DirectoryStream<Path> versions = Files.newDirectoryStream(root)) {
                    for (Path version : versions) {
                        if (Files.isExecutable(version.resolve("bin/postgres"))
                                && Files.isExecutable(version.resolve("bin/initdb"))
                                && version.getFileName().toString().matches("\\d+")) {
                            found.add(version.resolve("bin"));
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + root, e);
                }
            }
            return found.stream()
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getParent().getFileName().toString())))
                    .orElseThrow(() -> new IllegalStateException(NOT_FOUND));
        }
    }
}
