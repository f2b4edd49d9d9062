package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The launcher itself, with a real MariaDB, through plain JDBC. */
@Timeout(60)
class MariaDbServerTest {

    private static Connection connect(MariaDbServer db) throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
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
        try (MariaDbServer db = MariaDbServer.start()) {
            System.out.printf("MariaDbServer.start: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(db.host()).isEqualTo("127.0.0.1");
            assertThat(db.jdbcUrl()).isEqualTo("jdbc:mariadb://127.0.0.1:" + db.port() + "/test");
            assertThat(db.mysqlJdbcUrl("x")).isEqualTo("jdbc:mysql://127.0.0.1:" + db.port() + "/x");
            assertThat(db.user()).isEqualTo("root");
            assertThat(db.isRunning()).isTrue();
            assertThat(db.directory().getFileName().toString()).startsWith("dlm4j-mariadb-");
            try (Connection c = connect(db)) {
                assertThat(selectOne(c)).isEqualTo(1);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CURRENT_USER()")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("root@127.0.0.1");
                }
            }
            // the MariaDB driver also takes jdbc:mysql: URLs
            try (Connection c = DriverManager.getConnection(db.mysqlJdbcUrl("test") + "?permitMysqlScheme",
                    db.user(), db.password())) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
            assertThat(db.sql("SELECT 40 + 2")).isEqualTo("42\n");
            assertThat(db.sql("SELECT DATABASE()")).isEqualTo("test\n");
        }
    }

    @Test
    void aWrongPasswordIsRefused() {
        try (MariaDbServer db = MariaDbServer.start()) {
            assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password() + "x"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("Access denied");
            assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl(), db.user(), ""))
                    .isInstanceOf(SQLException.class);
        }
    }

    @Test
    void aReadOnlyUserMaySelectButNotInsert() throws Exception {
        try (MariaDbServer db = MariaDbServer.start()) {
            db.createDatabase("locks");
            db.sql("locks", "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
            db.createUser("reader", "r-pw", true);
            db.createUser("writer", "w-pw", false);
            try (Connection c = DriverManager.getConnection(db.jdbcUrl("locks"), "reader", "r-pw");
                 Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO t VALUES (2)"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("denied");
                assertThatThrownBy(() -> s.executeUpdate("CREATE TABLE u (id int)"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("denied");
            }
            try (Connection c = DriverManager.getConnection(db.jdbcUrl("locks"), "writer", "w-pw");
                 Statement s = c.createStatement()) {
                assertThat(s.executeUpdate("INSERT INTO t VALUES (2)")).isEqualTo(1);
                s.executeUpdate("CREATE TABLE u (id int)");
            }
        }
    }

    @Test
    void committedDataSurvivesAKill() throws Exception {
        try (MariaDbServer db = MariaDbServer.start()) {
            int port = db.port();
            long pid = db.pid();
            try (Connection c = connect(db); Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TABLE t (id int) ENGINE=InnoDB");
                for (int i = 0; i < 100; i++) {
                    s.executeUpdate("INSERT INTO t VALUES (" + i + ")"); // autocommit: each its own commit
                }
                db.kill();
                assertThat(db.isRunning()).isFalse();
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
            }
            db.restart();
            assertThat(db.port()).isEqualTo(port);
            assertThat(db.pid()).isNotEqualTo(pid);
            assertThat(db.sql("SELECT count(*) FROM t")).isEqualTo("100\n");
            try (Connection c = connect(db)) { // the init file ran again: root still has its password
                assertThat(selectOne(c)).isEqualTo(1);
            }
            db.restart(); // a graceful stop, then a start
            assertThat(db.sql("SELECT count(*) FROM t")).isEqualTo("100\n");
        }
    }

    @Test
    void pauseFreezesTheServerAndResumeBringsItBack() throws Exception {
        try (MariaDbServer db = MariaDbServer.start()) {
            try (Connection c = DriverManager.getConnection(db.jdbcUrl() + "?socketTimeout=1000",
                    db.user(), db.password())) {
                assertThat(selectOne(c)).isEqualTo(1);
                db.pause();
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> selectOne(c)).isInstanceOf(SQLException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(900);
                // nor is a new connection served
                assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl() + "?connectTimeout=1000&socketTimeout=1000",
                        db.user(), db.password()).close()).isInstanceOf(SQLException.class);
                db.resume();
            }
            try (Connection c = connect(db)) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
        }
    }

    @Test
    void twoServersRunSideBySide() throws Exception {
        try (MariaDbServer a = MariaDbServer.start(); MariaDbServer b = MariaDbServer.start()) {
            assertThat(a.port()).isNotEqualTo(b.port());
            assertThat(a.directory()).isNotEqualTo(b.directory());
            assertThat(a.password()).isNotEqualTo(b.password());
            a.sql("CREATE TABLE only_in_a (id int)");
            assertThat(b.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a'"))
                    .isEqualTo("0\n");
            try (Connection c = connect(b)) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
        }
    }

    @Test
    void closeDeletesTheFolderAndLeavesNoProcess() throws Exception {
        MariaDbServer db = MariaDbServer.start();
        long pid = db.pid();
        try (Connection c = connect(db)) {
            db.pause(); // close also copes with a frozen server
            db.close();
        }
        assertThat(db.directory()).doesNotExist();
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
        db.close(); // again: nothing to do
    }

    @Test
    void aFailedStatementShowsInTheLogThroughTheSqlErrorLogPlugin() {
        try (MariaDbServer db = MariaDbServer.start()) {
            db.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
            assertThat(db.log()).doesNotContain("ERROR 1062");
            assertThatThrownBy(() -> db.sql("INSERT INTO t VALUES (1)"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("Duplicate entry");
            assertThat(db.log()).contains("ERROR 1062: Duplicate entry '1' for key 'PRIMARY' : INSERT INTO t VALUES (1)");
        }
    }

    @Test
    void aStatementThatFailsOverJdbcShowsInTheLogToo() throws Exception {
        try (MariaDbServer db = MariaDbServer.start()) {
            db.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
            try (Connection c = connect(db); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO t VALUES (1)")).isInstanceOf(SQLException.class);
            }
            // a server-side prepared statement (COM_STMT_EXECUTE) as well
            try (Connection c = DriverManager.getConnection(db.jdbcUrl() + "?useServerPrepStmts=true",
                    db.user(), db.password());
                 java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?) /* prepared */")) {
                ps.setInt(1, 1);
                assertThatThrownBy(ps::executeUpdate).isInstanceOf(SQLException.class);
            }
            assertThat(db.log()).contains("ERROR 1062: Duplicate entry '1' for key 'PRIMARY' : INSERT INTO t VALUES (1)")
                    .contains("/* prepared */");
        }
    }

    @Test
    void withoutThePluginTheErrorLogHasNoFailedStatementEvenAtLogWarnings4() {
        try (MariaDbServer db = MariaDbServer.start(MariaDbServer.Options.builder()
                .logStatementErrors(false).extraArgs("--log-warnings=4").build())) {
            db.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
            assertThatThrownBy(() -> db.sql("INSERT INTO t VALUES (1)")).isInstanceOf(IllegalStateException.class);
            assertThat(db.sql("SELECT @@log_warnings")).isEqualTo("4\n");
            assertThat(db.log()).contains("ready for connections").doesNotContain("Duplicate entry");
        }
    }

    @Test
    void aPortTakenBeforeTheServerBindsItIsRetriedOnAnother() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            int[] ports = {taken.getLocalPort(), ChildProcesses.FreePorts.pick(1)[0]};
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            try (MariaDbServer db = MariaDbServer.start(MariaDbServer.Options.defaults(), () -> ports[next.getAndIncrement()])) {
                assertThat(db.port()).isEqualTo(ports[1]);
                assertThat(db.log()).containsIgnoringCase("address already in use");
                try (Connection c = connect(db)) {
                    assertThat(selectOne(c)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aServerThatCannotStartThrowsWithTheTailOfItsLog() {
        assertThatThrownBy(() -> MariaDbServer.start(MariaDbServer.Options.builder()
                .extraArgs("--no-such-option=1").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("mariadbd exited")
                .hasMessageContaining("no-such-option");
    }
}
