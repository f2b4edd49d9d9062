package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The launcher itself, with real etcd processes. */
@Timeout(60)
class EtcdClusterTest {

    private static final Duration ELECTION = Duration.ofSeconds(10);

    @Test
    void aSingleMemberIsHealthyOnFreeLoopbackPorts() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.startSingle()) {
            EtcdMember m = etcd.member(0);
            assertThat(etcd.size()).isEqualTo(1);
            assertThat(m.name()).isEqualTo("m0");
            assertThat(m.isRunning()).isTrue();
            assertThat(m.pid()).isPositive();
            assertThat(m.clientPort()).isPositive().isNotEqualTo(m.peerPort());
            assertThat(m.endpoint()).isEqualTo("http://127.0.0.1:" + m.clientPort());
            assertThat(etcd.endpoints()).containsExactly(m.endpoint());
            assertThat(etcd.endpointsUri()).isEqualTo("etcd://127.0.0.1:" + m.clientPort());
            assertThat(etcd.directory().getFileName().toString()).startsWith("dlm4j-etcd-");
            assertThat(m.directory().resolve("data")).isDirectory();
            assertThat(m.directory().resolve("etcd.log")).isNotEmptyFile();
            assertThat(get(m.endpoint() + "/health")).contains("\"health\":\"true\"");
            assertThat(m.isHealthy()).isTrue();
            assertThat(m.id()).matches("\\d+");
            assertThat(etcd.leader()).isSameAs(m);
            assertThat(m.leaderId()).isEqualTo(m.id());
        }
    }

    @Test
    void putGetDeleteAndTheRevision() {
        try (EtcdCluster etcd = EtcdCluster.startSingle()) {
            long r0 = etcd.revision();
            assertThat(etcd.get("k")).isNull();
            etcd.put("k", "v");
            assertThat(etcd.get("k")).isEqualTo("v");
            long r1 = etcd.revision();
            assertThat(r1).isGreaterThan(r0);
            etcd.put("k", "é ✓");
            assertThat(etcd.get("k")).isEqualTo("é ✓");
            etcd.put("empty", "");
            assertThat(etcd.get("empty")).isEmpty();
            assertThat(etcd.revision()).isEqualTo(r1 + 2);
            etcd.delete("k");
            assertThat(etcd.get("k")).isNull();
            assertThat(etcd.revision()).isEqualTo(r1 + 3);
            etcd.delete("k"); // nothing to delete: no new revision
            assertThat(etcd.revision()).isEqualTo(r1 + 3);
            assertThat(etcd.member(0).getLocal("empty")).isEmpty();
        }
    }

    @Test
    void leasesAsShortAsTheDocumentedMinimum() throws Exception {
        assertThat(EtcdClusterOptions.defaults().minimumLeaseTtl()).isEqualTo(Duration.ofSeconds(1));
        assertThat(EtcdClusterOptions.etcdDefaults().minimumLeaseTtl()).isEqualTo(Duration.ofSeconds(2));
        assertThat(EtcdClusterOptions.builder().heartbeatInterval(Duration.ofMillis(100))
                .electionTimeout(Duration.ofMillis(3000)).build().minimumLeaseTtl()).isEqualTo(Duration.ofSeconds(5));
        try (EtcdCluster fast = EtcdCluster.startSingle()) {
            assertThat(grantTtl(fast.member(0).endpoint(), 1)).isEqualTo(1);
        }
        try (EtcdCluster slow = EtcdCluster.start(1, EtcdClusterOptions.etcdDefaults())) {
            assertThat(grantTtl(slow.member(0).endpoint(), 1)).isEqualTo(2); // raised silently
        }
    }

    @Test
    void threeMembersHaveOneLeaderAndSurviveItsDeath() {
        try (EtcdCluster etcd = EtcdCluster.start(3)) {
            assertThat(etcd.size()).isEqualTo(3);
            assertThat(etcd.endpoints()).doesNotHaveDuplicates().hasSize(3);
            assertThat(etcd.endpointsUri()).matches("etcd://127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+");
            for (EtcdMember m : etcd.members()) {
                assertThat(m.isHealthy()).as(m.name()).isTrue();
            }

            // exactly one leader, and every member agrees on it
            EtcdMember leader = etcd.awaitLeader(ELECTION);
            awaitAgreement(etcd, leader);
            assertThat(etcd.members().stream().filter(m -> m.id().equals(leader.id()))).hasSize(1);

            etcd.put("before", "1");
            long revision = etcd.revision();

            // kill the leader: another one takes over, writes still work
            leader.kill();
            assertThat(leader.isRunning()).isFalse();
            assertThat(leader.isHealthy()).isFalse();
            EtcdMember next = etcd.awaitLeader(ELECTION);
            assertThat(next).isNotSameAs(leader);
            assertThat(next.isRunning()).isTrue();
            etcd.put("during", "2");
            assertThat(etcd.get("during")).isEqualTo("2");
            assertThat(etcd.get("before")).isEqualTo("1");
            assertThat(etcd.revision()).isGreaterThan(revision);

            // restart it: same ports and data, healthy, and it has the write it missed
            long oldPid = leader.pid();
            int port = leader.clientPort();
            leader.restart();
            assertThat(leader.isRunning()).isTrue();
            assertThat(leader.pid()).isNotEqualTo(oldPid);
            assertThat(leader.clientPort()).isEqualTo(port);
            assertThat(leader.isHealthy()).isTrue();
            assertThat(leader.getLocal("during")).isEqualTo("2"); // applied locally, not only readable
            assertThat(leader.get("before")).isEqualTo("1");
            awaitAgreement(etcd, etcd.awaitLeader(ELECTION));
        }
    }

    @Test
    void aPausedMemberDoesNotAnswerUntilResumed() {
        try (EtcdCluster etcd = EtcdCluster.start(3)) {
            EtcdMember leader = etcd.awaitLeader(ELECTION);
            EtcdMember follower = etcd.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
            follower.pause();
            assertThat(follower.isRunning()).isTrue();
            assertThat(follower.isPaused()).isTrue();
            assertThat(follower.isHealthy()).isFalse(); // the connection opens, the answer never comes
            assertThat(follower.leaderId()).isNull();

            etcd.put("k", "while paused"); // two of three are a quorum; the helpers skip the paused one
            assertThat(etcd.get("k")).isEqualTo("while paused");

            follower.resume();
            assertThat(follower.isPaused()).isFalse();
            assertThat(follower.get("k")).isEqualTo("while paused");
            assertThat(follower.isHealthy()).isTrue();
        }
    }

    @Test
    void stopEndsTheProcessGracefully() {
        try (EtcdCluster etcd = EtcdCluster.startSingle()) {
            EtcdMember m = etcd.member(0);
            etcd.put("k", "v");
            m.stop();
            assertThat(m.isRunning()).isFalse();
            assertThat(m.isHealthy()).isFalse();
            assertThatThrownBy(() -> etcd.get("k")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no etcd member is running");
            assertThatThrownBy(m::pause).isInstanceOf(IllegalStateException.class).hasMessageContaining("not running");
            m.stop(); // again: nothing to do
            m.restart();
            assertThat(etcd.get("k")).isEqualTo("v");
        }
    }

    @Test
    void closeStopsEverythingAndDeletesTheFolders() {
        EtcdCluster etcd = EtcdCluster.start(3);
        Path dir = etcd.directory();
        List<Long> pids = etcd.members().stream().map(EtcdMember::pid).toList();
        etcd.member(2).pause();
        etcd.member(1).kill();
        etcd.close();
        assertThat(Files.exists(dir)).isFalse();
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid " + pid).isFalse();
        }
        etcd.close(); // idempotent
        assertThatThrownBy(() -> etcd.member(0).restart()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> etcd.put("k", "v")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void twoClustersRunSideBySide() {
        try (EtcdCluster a = EtcdCluster.startSingle(); EtcdCluster b = EtcdCluster.startSingle()) {
            assertThat(a.member(0).clientPort()).isNotEqualTo(b.member(0).clientPort());
            a.put("k", "a");
            assertThat(b.get("k")).isNull();
        }
    }

    @Test
    void theMissingBinaryMessageNamesTheSetupScript() {
        assertThat(EtcdCluster.NOT_FOUND)
                .isEqualTo("etcd not found: run scripts/setup-test-servers (installs the Debian package etcd-server)");
        assertThatThrownBy(() -> EtcdCluster.start(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EtcdClusterOptions.builder().heartbeatInterval(Duration.ofMillis(100))
                .electionTimeout(Duration.ofMillis(200)).build()).isInstanceOf(IllegalArgumentException.class);
    }

    /** Polls until every member reports {@code leader} as leader (followers learn of it by heartbeat). */
    private static void awaitAgreement(EtcdCluster etcd, EtcdMember leader) {
        long deadline = System.nanoTime() + ELECTION.toNanos();
        while (!etcd.members().stream().allMatch(m -> Objects.equals(m.leaderId(), leader.id()))) {
            assertThat(System.nanoTime() - deadline).as("members agree on leader " + leader.name()).isNegative();
            Thread.onSpinWait();
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static long grantTtl(String endpoint, int ttl) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = client.send(HttpRequest.newBuilder(URI.create(endpoint + "/v3/lease/grant"))
                        .timeout(Duration.ofSeconds(5))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"TTL\":" + ttl + "}")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("\"TTL\"\\s*:\\s*\"(\\d+)\"").matcher(body);
        assertThat(m.find()).as(body).isTrue();
        return Long.parseLong(m.group(1));
    }
}
