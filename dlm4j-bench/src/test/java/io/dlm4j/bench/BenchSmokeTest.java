package io.dlm4j.bench;

import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One tiny run per backend, in this JVM (scripts/bench forks one JVM per library): the scenarios
 * work against real servers, the server-side counts are what dlm4j promises, and the report renders.
 */
class BenchSmokeTest {

    private static RedisServer redis;
    private static final List<RedisServer> masters = new ArrayList<>();
    private static EtcdCluster etcd;
    private static EmbeddedMongoServer mongo;
    private static final List<Map<String, Object>> forks = new ArrayList<>();

    @BeforeAll
    static void startServers() {
        redis = RedisServer.start();
        for (int i = 0; i < 3; i++) {
            masters.add(RedisServer.start());
        }
        etcd = EtcdCluster.startSingle();
        mongo = EmbeddedMongoServer.start();
    }

    @AfterAll
    static void stopServers() {
        if (mongo != null) {
            mongo.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        masters.forEach(RedisServer::close);
        if (redis != null) {
            redis.close();
        }
    }

    private static Map<String, Map<String, Object>> run(String backend, String library, List<String> servers,
                                                        String... scenarios) throws Exception {
        ForkMain.ForkSpec spec = BenchPlan.smoke(List.of(backend)).fork(backend, library, List.of(scenarios), servers);
        Map<String, Object> fork = ForkMain.run(spec, true);
        fork.put("rep", 1);
        forks.add(fork);
        Map<String, Map<String, Object>> byScenario = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> results = (List<Map<String, Object>>) fork.get("results");
        results.forEach(r -> byScenario.put((String) r.get("scenario"), r));
        return byScenario;
    }

    @Test
    void redisDlm4jIsOneEvalshaPerAcquireAndPerReleaseAndLeavesOnlyTheFenceCounter() throws Exception {
        var r = run("redis", "dlm4j", List.of(redis.hostAndPort()), "u1", "cost");
        assertThat((Integer) r.get("u1").get("ops")).isPositive();
        assertThat(r.get("cost").get("acquireCommands")).isEqualTo(Map.of("evalsha", 1.0));
        assertThat(r.get("cost").get("releaseCommands")).isEqualTo(Map.of("evalsha", 1.0));
        assertThat((Double) r.get("cost").get("keysLeftPerLock")).isEqualTo(1.0);
    }

    @Test
    void redisPeersAndTheRawLimitRunAndAreCounted() throws Exception {
        var raw = run("redis", "raw", List.of(redis.hostAndPort()), "u1", "cost");
        assertThat((Integer) raw.get("u1").get("ops")).isPositive();
        assertThat(raw.get("cost").get("acquireCommands")).isEqualTo(Map.of("set", 1.0));
        assertThat(raw.get("cost").get("releaseCommands")).isEqualTo(Map.of("evalsha", 1.0));
        var redisson = run("redis", "redisson", List.of(redis.hostAndPort()), "h4");
        assertThat((Integer) redisson.get("h4").get("ops")).isPositive();
        assertThat((Double) redisson.get("h4").get("ownerChangeShare")).isGreaterThan(0.5);
    }

    @Test
    void redlockDlm4jAcquiresInTwoScriptsPerMasterAndReleasesInOne() throws Exception {
        var r = run("redlock", "dlm4j", masters.stream().map(RedisServer::hostAndPort).toList(), "u1", "cost");
        assertThat((Integer) r.get("u1").get("ops")).isPositive();
        // a new hold: the acquire script, then the token recorded on the majority that granted it
        assertThat(r.get("cost").get("acquireCommands")).isEqualTo(Map.of("evalsha", 6.0));
        assertThat(r.get("cost").get("releaseCommands")).isEqualTo(Map.of("evalsha", 3.0));
    }

    @Test
    void etcdDlm4jAndJetcdLockRunAndAreCounted() throws Exception {
        var r = run("etcd", "dlm4j", List.of(etcd.member(0).hostAndPort()), "u1", "cost");
        assertThat((Integer) r.get("u1").get("ops")).isPositive();
        assertThat((Double) r.get("cost").get("commandsPerAcquire")).isGreaterThanOrEqualTo(1.0);
        var jetcd = run("etcd", "jetcd-lock", List.of(etcd.member(0).hostAndPort()), "c4");
        assertThat((Integer) jetcd.get("c4").get("ops")).isPositive();
    }

    @Test
    void mongoDlm4jAndShedLockRunAndAreCounted() throws Exception {
        var r = run("mongo", "dlm4j", List.of(mongo.hostAndPort()), "u1", "cost");
        assertThat((Integer) r.get("u1").get("ops")).isPositive();
        assertThat((Double) r.get("cost").get("commandsPerAcquire")).isGreaterThanOrEqualTo(1.0);
        var shedlock = run("mongo", "shedlock", List.of(mongo.hostAndPort()), "u1");
        assertThat((Integer) shedlock.get("u1").get("ops")).isPositive();
    }

    @Test
    void theReportShowsEveryLibraryThatRan() throws Exception {
        run("redis", "dlm4j", List.of(redis.hostAndPort()), "u1", "refresh");
        run("redis", "polling", List.of(redis.hostAndPort()), "h4");
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("mode", "smoke");
        results.put("command", "BenchSmokeTest");
        results.put("date", "now");
        results.put("seconds", 1.0);
        results.put("plan", Map.of());
        results.put("machine", Environment.machine());
        results.put("versions", Map.of("dlm4j", "test"));
        results.put("summary", Summary.of(forks));
        String md = new Report(results, "## Findings\n\nnone").markdown();
        assertThat(md).contains("## Redis (one server)", "**dlm4j**", "polling lock", "cost of auto-refresh", "## Findings");
    }
}
