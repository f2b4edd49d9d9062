package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The launcher itself, with a real PostgreSQL, through plain JDBC. */
@Timeout(60)
class PostgresServerTest {

    private static Connection connect(PostgresServer pg) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void startsAndAnswersOverJdbcWithThePassword() throws Exception {
        long t0 = System.nanoTime();
        try (PostgresServer pg = PostgresServer.start()) {
            System.out.printf("PostgresServer.start: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(pg.host()).isEqualTo("127.0.0.1");
            assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres");
            assertThat(pg.jdbcUrl("x")).isEqualTo("jdbc:postgresql://127.0.0.1:" + pg.port() + "/x");
            assertThat(pg.user()).isEqualTo("postgres");
            assertThat(pg.isRunning()).isTrue();
            assertThat(pg.directory().getFileName().toString()).startsWith("dlm4j-postgres-");
            try (Connection c = connect(pg)) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
            assertThat(pg.sql("SELECT 40 + 2")).isEqualTo("42\n");
            assertThat(pg.sql("SELECT pg_backend_pid() <> " + pg.pid())).isEqualTo("t\n");
        }
    }

    @Test
    void aWrongPasswordIsRefused() {
        try (PostgresServer pg = PostgresServer.start()) {
            assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password() + "x"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("password authentication failed");
        }
    }

    @Test
    void aReadOnlyUserMaySelectButNotInsert() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            pg.createDatabase("locks");
            pg.sql("locks", "CREATE TABLE t (id int PRIMARY KEY)");
            pg.sql("locks", "INSERT INTO t VALUES (1)");
            pg.createUser("reader", "r-pw", true);
            pg.createUser("writer", "w-pw", false);
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("locks"), "reader", "r-pw");
                 Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO t VALUES (2)"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
                assertThatThrownBy(() -> s.executeUpdate("CREATE TABLE u (id int)"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            }
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("locks"), "writer", "w-pw");
                 Statement s = c.createStatement()) {
                assertThat(s.executeUpdate("INSERT INTO t VALUES (2)")).isEqualTo(1);
                s.executeUpdate("CREATE TABLE u (id int)");
            }
            pg.createDatabase("later");
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("later"), "writer", "w-pw");
                 Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE v (id int)");
            }
        }
    }

    @Test
    void committedDataSurvivesAKillOfTheWholeTree() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            int port = pg.port();
            long pid = pg.pid();
            try (Connection c = connect(pg); Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE t (id int)");
                for (int i = 0; i < 100; i++) {
                    s.executeUpdate("INSERT INTO t VALUES (" + i + ")"); // each its own commit
                }
                pg.kill();
                assertThat(pg.isRunning()).isFalse();
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
            }
            pg.restart();
            assertThat(pg.port()).isEqualTo(port);
            assertThat(pg.pid()).isNotEqualTo(pid);
            assertThat(pg.sql("SELECT count(*) FROM t")).isEqualTo("100\n");
            pg.restart(); // a graceful stop, then a start
            assertThat(pg.sql("SELECT count(*) FROM t")).isEqualTo("100\n");
        }
    }

    @Test
    void pauseFreezesTheBackendsAndResumeBringsThemBack() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Properties props = new Properties();
            props.setProperty("user", pg.user());
            props.setProperty("password", pg.password());
            props.setProperty("socketTimeout", "1");
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), props)) {
                assertThat(selectOne(c)).isEqualTo(1);
                pg.pause();
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> selectOne(c)).isInstanceOf(SQLException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(900);
                // the postmaster is frozen too: no new connection is served
                Properties login = new Properties();
                login.putAll(props);
                login.setProperty("loginTimeout", "1");
                assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(), login).close())
                        .isInstanceOf(SQLException.class);
                pg.resume();
            }
            try (Connection c = connect(pg)) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
        }
    }

    @Test
    void twoServersRunSideBySide() throws Exception {
        try (PostgresServer a = PostgresServer.start(); PostgresServer b = PostgresServer.start()) {
            assertThat(a.port()).isNotEqualTo(b.port());
            assertThat(a.directory()).isNotEqualTo(b.directory());
            a.sql("CREATE TABLE only_in_a (id int)");
            assertThat(b.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")).isEqualTo("0\n");
            try (Connection c = connect(b)) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
        }
    }

    @Test
    void closeDeletesTheFolderAndLeavesNoProcess() throws Exception {
        PostgresServer pg = PostgresServer.start();
        long pid = pg.pid();
        java.util.List<ProcessHandle> tree;
        try (Connection c = connect(pg)) {
            tree = ProcessHandle.of(pid).orElseThrow().descendants().toList();
            assertThat(tree).isNotEmpty(); // background workers and this connection's backend
            pg.pause(); // close also copes with a frozen server
            pg.close();
        }
        assertThat(pg.directory()).doesNotExist();
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(tree).allSatisfy(h -> assertThat(ChildProcesses.isLive(h.pid())).isFalse());
        pg.close(); // again: nothing to do
    }

    @Test
    void aFailedStatementShowsInTheLog() {
        try (PostgresServer pg = PostgresServer.start()) {
            pg.sql("CREATE TABLE t (id int PRIMARY KEY)");
            pg.sql("INSERT INTO t VALUES (1)");
            assertThat(pg.log()).doesNotContain("duplicate key");
            assertThatThrownBy(() -> pg.sql("INSERT INTO t VALUES (1)"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("duplicate key");
            assertThat(pg.log()).contains("ERROR:  duplicate key value violates unique constraint \"t_pkey\"")
                    .contains("STATEMENT:  INSERT INTO t VALUES (1)");
        }
    }

    @Test
    void aStatementThatFailsOverJdbcShowsInTheLogToo() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); Connection c = connect(pg)) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE t (id int PRIMARY KEY)");
                s.executeUpdate("INSERT INTO t VALUES (1)");
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?)")) {
                ps.setInt(1, 1);
                assertThatThrownBy(ps::executeUpdate).isInstanceOf(SQLException.class);
            }
            assertThat(pg.log()).contains("ERROR:  duplicate key value violates unique constraint \"t_pkey\"")
                    .contains("STATEMENT:  INSERT INTO t VALUES ($1)");
        }
    }

    @Test
    void optionsAddSettings() {
        try (PostgresServer pg = PostgresServer.start(PostgresServer.Options.builder()
                .setting("max_connections", "17").build())) {
            assertThat(pg.sql("SHOW max_connections")).isEqualTo("17\n");
            assertThat(pg.sql("SHOW fsync")).isEqualTo("off\n");
            assertThat(pg.sql("SHOW synchronous_commit")).isEqualTo("on\n");
        }
    }

    @Test
    void aPortTakenBeforeTheServerBindsItIsRetriedOnAnother() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            int[] ports = {taken.getLocalPort(), ChildProcesses.FreePorts.pick(1)[0]};
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            try (PostgresServer pg = PostgresServer.start(PostgresServer.Options.defaults(), () -> ports[next.getAndIncrement()])) {
                assertThat(pg.port()).isEqualTo(ports[1]);
                assertThat(pg.log()).containsIgnoringCase("address already in use");
                try (Connection c = connect(pg)) {
                    assertThat(selectOne(c)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aServerThatCannotStartThrowsWithTheTailOfItsLog() {
        assertThatThrownBy(() -> PostgresServer.start(PostgresServer.Options.builder()
                .setting("no_such_setting", "1").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("postgres exited")
                .hasMessageContaining("unrecognized configuration parameter \"no_such_setting\"");
    }
}
