package io.dlm4j.cli;

import io.dlm4j.testservers.BadServer;
import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The jar with JDBC URLs: what it bundles (and what not), the demo and ping on H2, PostgreSQL and
 * MariaDB through the bundled drivers, MySQL Connector/J added on the class path, and no password
 * of a JDBC URL in any output. The full command set runs in H2FileIT and PostgresIT.
 */
class JdbcIT {

    private static final String SECRET = "wr0ng-s3cret";
    private static final Path MYSQL_JAR = Path.of(System.getProperty("mysql.connector.jar", "mysql-connector-j.jar"));

    private static PostgresServer postgres;
    private static MariaDbServer mariadb;

    @TempDir
    Path dir;

    @BeforeAll
    static void startServers() {
        postgres = PostgresServer.start();
        mariadb = MariaDbServer.start();
    }

    @AfterAll
    static void stopServers() {
        if (postgres != null) {
            postgres.close();
        }
        if (mariadb != null) {
            mariadb.close();
        }
    }

    @Test
    void jarBundlesThePostgresMariaDbAndH2DriversWithTheirLicences_butNotMySqlConnectorJ() throws IOException {
        try (ZipFile jar = new ZipFile(Cli.JAR.toFile())) {
            for (String driver : List.of("org/postgresql/Driver.class", "org/mariadb/jdbc/Driver.class",
                    "org/h2/Driver.class", "com/zaxxer/hikari/HikariDataSource.class", "io/dlm4j/jdbc/JdbcDlm.class")) {
                assertThat(jar.getEntry(driver)).as(driver).isNotNull();
            }
            assertThat(jar.stream().map(ZipEntry::getName).filter(n -> n.startsWith("com/mysql/")).toList())
                    .as("MySQL Connector/J (GPL) is never in the jar").isEmpty();
            assertThat(read(jar, "META-INF/services/java.sql.Driver").lines().toList())
                    .containsExactlyInAnyOrder("org.postgresql.Driver", "org.h2.Driver", "org.mariadb.jdbc.Driver");
            assertThat(read(jar, "META-INF/licenses/org.mariadb.jdbc.mariadb-java-client/LGPL-2.1.txt"))
                    .contains("GNU LESSER GENERAL PUBLIC LICENSE", "Version 2.1, February 1999");
            assertThat(read(jar, "META-INF/licenses/com.h2database.h2/MPL-2.0.txt")).contains("Mozilla Public License Version 2.0");
            assertThat(read(jar, "META-INF/licenses/org.postgresql.postgresql/LICENSE"))
                    .contains("Copyright (c) 1997, PostgreSQL Global Development Group");
            assertThat(read(jar, "META-INF/licenses/com.zaxxer.HikariCP/Apache-2.0.txt")).contains("Apache License");
            String thirdParty = read(jar, "META-INF/licenses/THIRD-PARTY.txt");
            assertThat(thirdParty).doesNotContain("${")
                    .contains("MariaDB Connector/J 3.", "Replacing it", "H2 Database Engine 2.", "pgjdbc) 42.",
                            "MySQL Connector/J (com.mysql:mysql-connector-j) is licensed GPLv2")
                    .contains(BackendOptions.MAIN_CLASS);
        }
    }

    private static String read(ZipFile jar, String name) throws IOException {
        ZipEntry entry = jar.getEntry(name);
        assertThat(entry).as(name).isNotNull();
        return new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void demoOnAnInMemoryH2Database_sharedByTheInstancesOfTheProcess() {
        Cli.Result r = new Cli(dir).start("demo", "--uri", "jdbc:h2:mem:demo").await(Duration.ofMinutes(1));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).as(r.toString()).startsWith("dlm4j demo: 5 app instances start at once against jdbc:h2:mem:demo;")
                .contains("in-memory H2 database of this process: the instances share it");
        assertThat(r.out().lines().filter(l -> l.matches(" *\\d+\\.\\d+ s  pod-\\d\\s+runs migration .*")).count())
                .as(r.out()).isEqualTo(1);
        assertThat(r.out().lines().filter(l -> l.contains(" skips: already applied by pod-")).count())
                .as(r.out()).isEqualTo(4);
        assertThat(r.out().lines().filter(l -> l.contains(" waits: held by pod-")).count())
                .as(r.out()).isGreaterThanOrEqualTo(1);
        assertThat(r.out().lines().filter(l -> l.contains("released the lock and serves traffic")).count())
                .as(r.out()).isEqualTo(5);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void anUnnamedInMemoryH2DatabaseIsRefused() {
        // each connection of jdbc:h2:mem: has a database of its own: five instances all "ran the migration"
        for (String[] command : List.of(new String[] {"demo", "--uri", "jdbc:h2:mem:"},
                new String[] {"ping", "--uri", "jdbc:h2:mem:;MODE=PostgreSQL"})) {
            Cli.Result r = new Cli(dir).run(command);
            assertThat(r.exit()).as(r.toString()).isEqualTo(2);
            assertThat(r.err()).as(r.toString())
                    .isEqualTo("dlm4j: an unnamed in-memory H2 database (jdbc:h2:mem:) is private to each connection, "
                            + "so its locks would exclude nothing; name it: jdbc:h2:mem:NAME\n");
            assertThat(r.out()).as(r.toString()).doesNotContain("runs migration");
        }
    }

    @Test
    void pingOnH2() {
        Cli cli = new Cli(dir);
        Cli.Result plain = cli.run("ping", "--uri", "jdbc:h2:mem:x");
        assertThat(plain.exit()).as(plain.toString()).isZero();
        assertThat(plain.out()).matches("ok: jdbc:h2:mem:x answered in [0-9.]+ ms \\(first call, with connecting: [0-9.]+ ms\\)\\n");
        Cli.Result json = cli.run("ping", "--uri", "jdbc:h2:file:" + dir.resolve("db") + ";PASSWORD=" + SECRET, "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        assertThat(json.out()).matches("\\{\"uri\":\"jdbc:h2:file:[^\"]+/db;PASSWORD=\\*\\*\\*\",\"ok\":true,"
                + "\"roundTripMillis\":[0-9.]+,\"firstMillis\":[0-9.]+}\\n");
    }

    @Test
    void aFileDatabaseWithoutAutoServerIsOpenInOneProcess_andTheErrorSaysWhatToAdd() {
        String plain = "jdbc:h2:file:" + dir.resolve("plain");
        Cli cli = new Cli(dir);
        Cli.Started holder = cli.start("run", "--uri", plain, "--key", "k", "--",
                "sh", "-c", "echo held > ready; while [ ! -e go ]; do sleep 0.05; done");
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("ready")));
            Cli.Result second = cli.run("status", "--uri", plain, "--key", "k", "--timeout", "2s");
            assertThat(second.exit()).as(second.toString()).isEqualTo(69);
            assertThat(second.err()).as(second.toString()).contains("Database may be already in use",
                    "unless every process that shares it adds ;AUTO_SERVER=TRUE to the URL");
            Files.writeString(dir.resolve("go"), "go\n");
            assertThat(holder.await(Cli.DEFAULT_TIMEOUT).exit()).isZero();
        } catch (IOException e) {
            throw new AssertionError(e);
        } finally {
            holder.kill();
        }
    }

    @Test
    void pingOnPostgresAndMariaDbThroughTheBundledDrivers() {
        Cli cli = new Cli(dir);
        String pg = postgres.jdbcUrl() + "?user=" + postgres.user() + "&password=" + postgres.password();
        String maria = mariadb.jdbcUrl() + "?user=" + mariadb.user() + "&password=" + mariadb.password();
        for (String uri : List.of(pg, maria)) {
            Cli.Result r = cli.run("ping", "--uri", uri);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).as(r.toString()).matches("ok: jdbc:(postgresql|mariadb)://127\\.0\\.0\\.1:\\d+/\\w+"
                    + "\\?user=\\w+&password=\\*\\*\\* answered in [0-9.]+ ms \\(first call, with connecting: [0-9.]+ ms\\)\\n");
            assertThat(r.err()).isEmpty();
        }
    }

    @Test
    void mySqlUrlsNeedConnectorJOnTheClassPath() {
        Cli cli = new Cli(dir);
        String mysql = mariadb.mysqlJdbcUrl("test") + "?user=" + mariadb.user() + "&password=" + mariadb.password();

        Cli.Result without = cli.run("ping", "--uri", mysql);
        assertThat(without.exit()).as(without.toString()).isEqualTo(2);
        assertThat(without.err()).as(without.toString()).startsWith("dlm4j: jdbc:mysql: URLs need MySQL Connector/J")
                .contains("java -cp dlm4j.jar:mysql-connector-j-9.5.0.jar io.dlm4j.cli.Dlm4jCommand")
                .doesNotContain(mariadb.password());

        assertThat(MYSQL_JAR).as("mysql-connector-j from the local Maven repository").isRegularFile();
        Cli.Result with = cli.startWithClassPath(Cli.JAR + File.pathSeparator + MYSQL_JAR, "ping", "--uri", mysql)
                .await(Cli.DEFAULT_TIMEOUT);
        assertThat(with.exit()).as(with.toString()).isZero();
        assertThat(with.out()).as(with.toString()).startsWith("ok: jdbc:mysql://127.0.0.1:").contains("password=***");
    }

    private List<String> jdbcUrisWithCredentials() {
        int closed = BadServer.closedPort();
        String pgAt = "127.0.0.1:" + postgres.port();
        String mariaAt = "127.0.0.1:" + mariadb.port();
        return List.of(
                "jdbc:postgresql://" + pgAt + "/postgres?user=postgres&password=" + SECRET,
                "jdbc:postgresql://" + pgAt + "/postgres?user=postgres&password=" + SECRET + "&sslmode=bogus",
                "jdbc:postgresql://postgres:" + SECRET + "@" + pgAt + "/postgres", // not a form pgjdbc reads
                "jdbc:postgresql://127.0.0.1:" + closed + "/postgres?user=postgres&password=" + SECRET,
                "jdbc:mariadb://" + mariaAt + "/test?user=root&password=" + SECRET,
                "jdbc:mariadb://root:" + SECRET + "@" + mariaAt + "/test", // MariaDB Connector/J reads it as a port
                "jdbc:mariadb://" + mariaAt + "/test?user=root&password=" + SECRET + "&trustStorePassword=" + SECRET,
                "jdbc:h2:mem:creds;PASSWORD=" + SECRET + ";NO_SUCH_SETTING=1",
                "jdbc:h2:mem:;USER=sa;PASSWORD=" + SECRET,
                "jdbc:mysql://root:" + SECRET + "@" + mariaAt + "/test", // no driver: HikariCP would print the URL
                "jdbc:mysql://(host=127.0.0.1,port=" + mariadb.port() + ",user=root,password=" + SECRET + ")/test");
    }

    @Test
    void noCommandPrintsAPasswordFromAJdbcUrl() {
        Cli cli = new Cli(dir);
        List<String> leaks = new ArrayList<>();
        List<String> uris = jdbcUrisWithCredentials();
        // two uris at a time, six JVMs: most commands wait out their 2 s timeouts a few times
        for (int i = 0; i < uris.size(); i += 2) {
            List<Cli.Started> started = new ArrayList<>();
            for (String uri : uris.subList(i, Math.min(i + 2, uris.size()))) {
                started.add(cli.start("ping", "--uri", uri, "--timeout", "2s"));
                started.add(cli.start("status", "--uri", uri, "--key", "k", "--json", "--timeout", "2s"));
                started.add(cli.start("-v", "run", "--uri", uri, "--key", "k", "--no-wait", "--timeout", "2s", "--", "true"));
            }
            for (Cli.Started command : started) {
                Cli.Result r = command.await(Cli.DEFAULT_TIMEOUT);
                if ((r.out() + r.err()).contains(SECRET)) {
                    leaks.add(r.toString().replace(SECRET, "<<SECRET>>"));
                }
            }
        }
        // and through MySQL Connector/J, which parses the user part and the key-value hosts itself
        String[] mysql = {"jdbc:mysql://root:" + SECRET + "@127.0.0.1:" + mariadb.port() + "/test",
                "jdbc:mysql://(host=127.0.0.1,port=" + mariadb.port() + ",user=root,password=" + SECRET + ")/test"};
        for (String uri : mysql) {
            Cli.Result r = cli.startWithClassPath(Cli.JAR + File.pathSeparator + MYSQL_JAR,
                    "-v", "ping", "--uri", uri, "--timeout", "2s").await(Cli.DEFAULT_TIMEOUT);
            assertThat(r.exit()).as(r.toString().replace(SECRET, "<<SECRET>>")).isEqualTo(69);
            if ((r.out() + r.err()).contains(SECRET)) {
                leaks.add(r.toString().replace(SECRET, "<<SECRET>>"));
            }
        }
        assertThat(leaks).as("outputs that show the password").isEmpty();
    }
}
