package io.dlm4j.testservers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/**
 * A real MariaDB server (the Debian package, MariaDB 10.11) run as a child process for tests, on a
 * free loopback port, in its own temporary folder. The same shape as {@link PostgresServer}; see
 * there for why a real server.
 *
 * <p>Use:
 * <pre>{@code
 * try (MariaDbServer db = MariaDbServer.start()) {
 *     Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); // database test
 *     db.createUser("reader", "pw", true);                 // may connect and SELECT only
 *     db.sql("SELECT 1");
 *     db.kill(); db.restart();                             // committed data survives
 *     db.pause(); db.resume();
 *     assertThat(db.log()).doesNotContain("ERROR 1062");   // failed statements, see Options
 * }
 * }</pre>
 *
 * <p>Fast start: {@code mariadb-install-db} runs once per JVM into a template folder (with a 4 MB
 * redo log instead of 96 MB, so the copy is 22 MB), which each server copies ({@code cp -a}). At
 * each start an {@code --init-file} gives {@code root@localhost}, {@code root@127.0.0.1} and
 * {@code root@::1} the password {@link #password()} (random per server) and creates the database
 * {@code test}. The server runs with {@code --innodb-flush-log-at-trx-commit=2}: the redo log is
 * written to the kernel at each commit but not fsynced, so every acknowledged commit survives
 * {@link #kill()} (with {@code 0} InnoDB writes it once a second, and a kill loses the last
 * second), and with {@code --skip-log-bin}, {@code --skip-name-resolve} and a 32 MB buffer pool.
 *
 * <p>Failed statements: MariaDB's error log ({@code <dir>/mariadb.log}) does not record a
 * statement that failed, not even with {@code --log-warnings=4}. By default the server therefore
 * loads the {@code SQL_ERROR_LOG} plugin ({@code sql_errlog}, part of the Debian package), which
 * writes every failed statement to {@code <dir>/sql_errors.log}; {@link #log()} returns both files,
 * so a test can assert that no {@code ERROR 1062} (duplicate key) was seen.
 * {@link Options.Builder#logStatementErrors(boolean)} turns it off.
 *
 * <p>As root (the CI machine) the server runs with {@code --user=root}; otherwise as the current user.
 * If MariaDB is not installed, {@link #start()} throws an {@link IllegalStateException} that names
 * {@code scripts/setup-test-servers}. Methods are thread-safe. Linux only.
 */
public final class MariaDbServer implements AutoCloseable {

    /** The settings of a {@link MariaDbServer}. Immutable; made with {@link #builder()}. */
    public static final class Options {

        private final boolean logStatementErrors;
        private final List<String> extraArgs;

        private Options(Builder b) {
            this.logStatementErrors = b.logStatementErrors;
            this.extraArgs = List.copyOf(b.extraArgs);
        }

        /** Statement errors logged, no extra arguments. */
        public static Options defaults() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /**
         * Whether failed statements are logged (the {@code SQL_ERROR_LOG} plugin, to
         * {@code sql_errors.log}, part of {@link MariaDbServer#log()}). By default true.
         */
        public boolean logStatementErrors() {
            return logStatementErrors;
        }

        /** Arguments appended to mariadbd's command line, e.g. {@code "--max-connections=20"}. */
        public List<String> extraArgs() {
            return extraArgs;
        }

        public static final class Builder {
            private boolean logStatementErrors = true;
            private final List<String> extraArgs = new ArrayList<>();

            private Builder() {
            }

            /** See {@link Options#logStatementErrors()}. */
            public Builder logStatementErrors(boolean logStatementErrors) {
                this.logStatementErrors = logStatementErrors;
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

    /** The message when MariaDB is missing. */
    static final String NOT_FOUND = "mariadbd not found: run scripts/setup-test-servers"
            + " (installs the Debian package mariadb-server)";

    private static final String HOST = ChildProcesses.FreePorts.HOST;
    private static final String NAME = "mariadbd";
    private static final String SUPERUSER = "root";
    private static final String DEFAULT_DATABASE = "test";
    private static final String LOG = "mariadb.log";
    private static final String STATEMENT_ERRORS = "sql_errors.log";
    private static final String DATA = "data";
    private static final String SOCKET = "mysql.sock";
    private static final String INIT = "init.sql";
    /** The redo log of the template and of every server: small, so that the copy is quick. */
    private static final String REDO_LOG_SIZE = "--innodb-log-file-size=4M";
    private static final String BUFFER_POOL_SIZE = "--innodb-buffer-pool-size=32M";
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    private final Template template;
    private final Options options;
    private final Path directory;
    private final int port;
    private final String password;
    private final ServerProcess server;
    private boolean closed;

    private MariaDbServer(Template template, Options options, Path directory, int port, String password) {
        this.template = template;
        this.options = options;
        this.directory = directory;
        this.port = port;
        this.password = password;
        this.server = new ServerProcess(NAME, port, this::commandLine, directory, directory.resolve(LOG),
                "ready for connections", "TERM");
    }

    /** Starts a server and waits until it accepts connections. */
    public static MariaDbServer start() {
        return start(Options.defaults());
    }

    /**
     * Starts a server and waits until it accepts connections (up to 30 s). The first start in a JVM
     * also runs mariadb-install-db for the template (about a second).
     *
     * @throws IllegalStateException if MariaDB is not installed, or it did not start; the message
     *                               then holds the tail of its log
     */
    public static MariaDbServer start(Options options) {
        return start(options, () -> ChildProcesses.FreePorts.pick(1)[0]);
    }

    /** {@link #start(Options)} on the ports {@code ports} gives, one per attempt; for the tests of the retry. */
    static MariaDbServer start(Options options, IntSupplier ports) {
        Objects.requireNonNull(options, "options");
        Template template = Template.get();
        String password = Passwords.random();
        Path directory = template.newServerFolder(password);
        IllegalStateException last = null;
        for (int attempt = 0; attempt < ChildProcesses.FreePorts.ATTEMPTS; attempt++) {
            MariaDbServer db = new MariaDbServer(template, options, directory, ports.getAsInt(), password);
            ChildProcesses.Reaper.watch(db, db.server::process, directory);
            try {
                synchronized (db) {
                    if (db.server.launch(Duration.ZERO)) {
                        return db;
                    }
                }
                last = new IllegalStateException("mariadbd could not bind port " + db.port);
            } catch (RuntimeException | Error e) {
                db.close();
                throw e;
            }
            ChildProcesses.Reaper.release(db);
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

    /** {@code jdbc:mariadb://127.0.0.1:port/test}. */
    public String jdbcUrl() {
        return jdbcUrl(DEFAULT_DATABASE);
    }

    /** {@code jdbc:mariadb://127.0.0.1:port/<database>}. */
    public String jdbcUrl(String database) {
        return "jdbc:mariadb://" + HOST + ":" + port + "/" + Objects.requireNonNull(database, "database");
    }

    /** {@code jdbc:mysql://127.0.0.1:port/<database>}, for MySQL's driver (MariaDB's also takes it). */
    public String mysqlJdbcUrl(String database) {
        return "jdbc:mysql://" + HOST + ":" + port + "/" + Objects.requireNonNull(database, "database");
    }

    /** {@code root}. */
    public String user() {
        return SUPERUSER;
    }

    /** root's password: random per server. */
    public String password() {
        return password;
    }

    /** The server's folder: {@code data/}, the logs and the unix socket. Deleted by {@link #close()}. */
    public Path directory() {
        return directory;
    }

    /** The process id of mariadbd (of the current process, or of the last one once it ended). */
    public synchronized long pid() {
        return server.pid();
    }

    /** Whether the server process is alive; true also while {@linkplain #pause() paused}. */
    public synchronized boolean isRunning() {
        return server.isRunning();
    }

    /** Creates a database (character set utf8mb4). */
    public void createDatabase(String name) {
        checkIdentifier(name);
        sql("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4");
    }

    /**
     * Creates {@code name@'%'} with a password. With {@code readOnly} it may SELECT from every
     * database and nothing else; otherwise it has every privilege on every database except GRANT.
     */
    public void createUser(String name, String password, boolean readOnly) {
        checkIdentifier(name);
        String user = "'" + name + "'@'%'";
        sql("CREATE USER " + user + " IDENTIFIED BY " + literal(password) + "; "
                + "GRANT " + (readOnly ? "SELECT" : "ALL PRIVILEGES") + " ON *.* TO " + user);
    }

    /** {@link #sql(String, String)} in database {@code test}. */
    public String sql(String statement) {
        return sql(DEFAULT_DATABASE, statement);
    }

    /**
     * Runs statements (separated by {@code ;}) with the {@code mariadb} client as root over the
     * unix socket, and returns what it printed: rows tab-separated, without header ({@code -N -B}),
     * e.g. {@code "1\n"} for {@code SELECT 1}. Waits up to 30 s.
     *
     * @throws IllegalStateException with the client's error message if a statement failed
     */
    public String sql(String database, String statement) {
        ChildProcesses.Result r = ChildProcesses.run(List.of(template.client.toString(), "--no-defaults",
                "--socket=" + directory.resolve(SOCKET), "--user=" + SUPERUSER, "--password=" + password,
                "--database=" + database, "-N", "-B", "-e", statement), CLIENT_TIMEOUT);
        if (!r.ok()) {
            throw new IllegalStateException("mariadb failed (exit " + r.exitCode() + ") on " + statement + ": "
                    + r.err().strip());
        }
        return r.out();
    }

    /**
     * The error log ({@code mariadb.log}) and, with {@link Options#logStatementErrors()}, then the
     * failed statements ({@code sql_errors.log}, lines such as
     * {@code ... ERROR 1062: Duplicate entry '1' for key 'PRIMARY' : INSERT ...}), across restarts.
     */
    public String log() {
        String log = ChildProcesses.readFrom(directory.resolve(LOG), 0);
        if (options.logStatementErrors()) {
            log += ChildProcesses.readFrom(directory.resolve(STATEMENT_ERRORS), 0);
        }
        return log;
    }

    /** Stops the server gracefully (SIGTERM), up to 10 s, then SIGKILL; resumes a paused one first. */
    public synchronized void stop() {
        checkOpen();
        server.stop();
    }

    /** SIGKILL; waits until it has exited. Committed data survives. Does nothing if not running. */
    public synchronized void kill() {
        checkOpen();
        server.kill();
    }

    /**
     * Freezes the server with SIGSTOP: connections stay open and nothing answers until
     * {@link #resume()}. Returns once it is stopped.
     *
     * @throws IllegalStateException if it is not running
     */
    public synchronized void pause() {
        checkOpen();
        server.pause();
    }

    /** Lets a {@linkplain #pause() paused} server run again (SIGCONT). Does nothing if not paused. */
    public synchronized void resume() {
        checkOpen();
        server.resume();
    }

    /**
     * Starts the server again on the same port and folder (stopping it first if it runs) and waits
     * until it accepts connections; after {@link #kill()} InnoDB first recovers from its redo log.
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
        return "MariaDbServer[" + jdbcUrl() + (p != null ? ", pid " + p.pid() : "") + ", " + directory + "]";
    }

    private List<String> commandLine() {
        List<String> cmd = new ArrayList<>(List.of(template.server.toString(), "--no-defaults"));
        if (template.asRoot) {
            cmd.add("--user=root");
        }
        cmd.addAll(List.of(
                "--datadir=" + directory.resolve(DATA),
                "--port=" + port,
                "--bind-address=" + HOST,
                "--socket=" + directory.resolve(SOCKET),
                "--pid-file=" + directory.resolve("mariadb.pid"),
                "--log-error=" + directory.resolve(LOG),
                "--init-file=" + directory.resolve(INIT),
                "--innodb-flush-log-at-trx-commit=2",
                "--skip-log-bin",
                "--skip-name-resolve",
                BUFFER_POOL_SIZE,
                REDO_LOG_SIZE));
        if (options.logStatementErrors()) {
            cmd.addAll(List.of("--plugin-load-add=sql_errlog",
                    "--sql-error-log-filename=" + directory.resolve(STATEMENT_ERRORS)));
        }
        cmd.addAll(options.extraArgs());
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
        return "'" + Objects.requireNonNull(text, "password").replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** The mariadb-install-db output of this JVM, made on first use and deleted at exit, and the binaries. */
    private static final class Template {

        private static Template instance;

        final Path server;
        final Path client;
        final Path folder;
        final boolean asRoot;

        private Template(Path server, Path client, Path folder, boolean asRoot) {
            this.server = server;
            this.client = client;
            this.folder = folder;
            this.asRoot = asRoot;
        }

        static synchronized Template get() {
            if (instance == null) {
                instance = create();
            }
            return instance;
        }

        private static Template create() {
            Path server = ChildProcesses.findBinary("mariadbd", NOT_FOUND);
            Path client = ChildProcesses.findBinary("mariadb", NOT_FOUND);
            Path installDb = ChildProcesses.findBinary("mariadb-install-db", NOT_FOUND);
            boolean asRoot = "root".equals(System.getProperty("user.name"));
            Path folder;
            try {
                folder = Files.createTempDirectory("dlm4j-mariadb-template-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for mariadb-install-db", e);
            }
            ChildProcesses.Reaper.watch(new Object(), () -> null, folder); // deleted at exit
            List<String> cmd = new ArrayList<>(List.of(installDb.toString(), "--no-defaults",
                    "--auth-root-authentication-method=normal", "--datadir=" + folder.resolve(DATA),
                    "--skip-test-db", "--skip-name-resolve", REDO_LOG_SIZE, BUFFER_POOL_SIZE));
            if (asRoot) {
                cmd.add("--user=root");
            }
            ChildProcesses.Result r = ChildProcesses.run(cmd, Duration.ofSeconds(120));
            if (!r.ok()) {
                throw new IllegalStateException("mariadb-install-db failed (exit " + r.exitCode() + "):\n"
                        + r.out() + r.err());
            }
            return new Template(server, client, folder, asRoot);
        }

        /** A new server's folder: a copy of the template's data folder, and the init file with root's password. */
        Path newServerFolder(String password) {
            Path directory;
            try {
                directory = Files.createTempDirectory("dlm4j-mariadb-");
                String pw = literal(password);
                // mariadb-install-db made root@localhost, root@127.0.0.1, root@::1 and root@<hostname>
                // (the last unused with --skip-name-resolve); run at every start, so idempotent
                Files.writeString(directory.resolve(INIT), String.join("\n",
                        "ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED BY " + pw + ";",
                        "ALTER USER IF EXISTS 'root'@'127.0.0.1' IDENTIFIED BY " + pw + ";",
                        "ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY " + pw + ";",
                        "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY " + pw + ";",
                        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
                        "CREATE DATABASE IF NOT EXISTS " + DEFAULT_DATABASE + " CHARACTER SET utf8mb4;",
                        ""));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for mariadbd", e);
            }
            ChildProcesses.Result r = ChildProcesses.run(List.of("cp", "-a",
                    folder.resolve(DATA).toString(), directory.resolve(DATA).toString()), Duration.ofSeconds(60));
            if (!r.ok()) {
                ChildProcesses.deleteRecursively(directory);
                throw new IllegalStateException("cannot copy the mariadb template: " + r.err());
            }
            return directory;
        }
    }
}
