package io.dlm4j.bench;

import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC rows, tiny, in this JVM (scripts/bench forks one JVM per library): every library runs on
 * a real PostgreSQL and MariaDB, the statement counts are what dlm4j-jdbc promises, and raw-sql
 * sends exactly dlm4j's statements.
 */
class JdbcBenchSmokeTest {

    private static PostgresServer postgres;
    private static MariaDbServer mariadb;

    @BeforeAll
    static void startServers() {
        postgres = PostgresServer.start();
        mariadb = MariaDbServer.start();
    }

    @AfterAll
    static void stopServers() {
        if (mariadb != null) {
            mariadb.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    private static Map<String, Map<String, Object>> run(String backend, String library, String... scenarios) throws Exception {
        List<String> servers = backend.equals("postgres")
                ? List.of(postgres.jdbcUrl(), postgres.user(), postgres.password())
                : List.of(mariadb.jdbcUrl(), mariadb.user(), mariadb.password());
        ForkMain.ForkSpec spec = BenchPlan.smoke(List.of(backend)).fork(backend, library, List.of(scenarios), servers);
        Map<String, Object> fork = ForkMain.run(spec, true);
        Map<String, Map<String, Object>> byScenario = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> results = (List<Map<String, Object>>) fork.get("results");
        results.forEach(r -> byScenario.put((String) r.get("scenario"), r));
        byScenario.values().forEach(r -> assertThat(r).doesNotContainKey("error"));
        return byScenario;
    }

    @Test
    void postgresDlm4jAndRawSqlSendOneStatementPerAcquireAndPerRelease() throws Exception {
        for (String library : List.of("dlm4j", "raw-sql")) {
            var r = run("postgres", library, "u1", "cost");
            assertThat((Integer) r.get("u1").get("ops")).isPositive();
            assertThat(r.get("cost").get("acquireCommands")).isEqualTo(Map.of("with insert", 1.0));
            assertThat(r.get("cost").get("releaseCommands")).isEqualTo(Map.of("with update", 1.0));
            assertThat((Double) r.get("cost").get("keysLeftPerLock")).isEqualTo(1.0);
        }
        var handoff = run("postgres", "dlm4j", "h4");
        assertThat((Double) handoff.get("h4").get("ownerChangeShare")).isGreaterThan(0.5);
    }

    @Test
    void mariaDbDlm4jReadsTheRowBackWhereRawSqlTrustsTheAffectedRows() throws Exception {
        var dlm4j = run("mariadb", "dlm4j", "u1", "cost");
        assertThat((Integer) dlm4j.get("u1").get("ops")).isPositive();
        assertThat(dlm4j.get("cost").get("acquireCommands")).isEqualTo(Map.of("insert", 1.0, "select", 1.0));
        assertThat(dlm4j.get("cost").get("releaseCommands")).isEqualTo(Map.of("update", 1.0));
        var raw = run("mariadb", "raw-sql", "u1", "cost");
        assertThat((Integer) raw.get("u1").get("ops")).isPositive();
        assertThat(raw.get("cost").get("acquireCommands")).isEqualTo(Map.of("insert", 1.0));
    }

    @Test
    void thePeersRunOnBothDatabases() throws Exception {
        for (String backend : List.of("postgres", "mariadb")) {
            assertThat((Integer) run(backend, "shedlock-jdbc", "u1").get("u1").get("ops")).isPositive();
            var si = run(backend, "si-jdbc", "u1", "c4");
            assertThat((Integer) si.get("u1").get("ops")).isPositive();
            assertThat((Integer) si.get("c4").get("ops")).isPositive();
            assertThat((Integer) run(backend, "polling", "c4").get("c4").get("ops")).isPositive();
        }
    }
}
