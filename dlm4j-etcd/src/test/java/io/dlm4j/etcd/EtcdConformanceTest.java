package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/** The whole contract on one real etcd member. */
@WithEtcd(own = true)
class EtcdConformanceTest extends ConformanceSuite {

    private static EtcdCluster etcd;
    private static Client client;

    @BeforeAll
    static void startServer(EtcdCluster shared) {
        etcd = shared;
        client = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build();
    }

    @AfterAll
    static void stopServer() {
        client.close();
    }

    /** Every member SIGSTOPped: connections stay open, nothing answers (a paused quorum can't answer either). */
    static void freeze(EtcdCluster etcd) {
        etcd.members().forEach(EtcdMember::pause);
    }

    /** Every member resumed, and a leader elected before the next test. */
    static void thaw(EtcdCluster etcd) {
        etcd.members().forEach(EtcdMember::resume);
        etcd.awaitLeader(Duration.ofSeconds(10));
    }

    static Duration granularity(EtcdCluster etcd) {
        // whole-second leases raised to the server's minimum, expired by the leader every 500 ms
        return etcd.options().minimumLeaseTtl().plus(Duration.ofSeconds(1));
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return EtcdDlm.create(client, options);
    }

    @Override
    protected Duration expiryGranularity() {
        return granularity(etcd);
    }

    @Override
    protected Duration timeLeftResolution() {
        return Duration.ofSeconds(1);
    }

    @Override
    protected boolean notifiesWaitersOnRelease() {
        return true;
    }

    @Override
    protected void deleteStoredRecord(String key) {
        etcd.delete(EtcdDlm.DEFAULT_KEY_PREFIX + key);
    }

    @Override
    protected void freezeBackend() {
        EtcdConformanceTest.freeze(etcd);
    }

    @Override
    protected void thawBackend() {
        EtcdConformanceTest.thaw(etcd);
    }
}
