package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.ConformanceSuite;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/** The whole contract on a real three-member etcd cluster. */
@WithEtcd(members = 3, own = true)
class EtcdClusterConformanceTest extends ConformanceSuite {

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


    @Override
    protected Dlm createDlm(DlmOptions options) {
        return EtcdDlm.create(client, options);
    }

    @Override
    protected Duration expiryGranularity() {
        return EtcdConformanceTest.granularity(etcd);
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
