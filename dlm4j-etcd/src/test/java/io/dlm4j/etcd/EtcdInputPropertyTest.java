package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on one real etcd member: keys as etcd key bytes under the prefix. */
@WithEtcd
class EtcdInputPropertyTest extends InputPropertySuite {

    private static EtcdCluster etcd;
    private static Client client;

    @BeforeAll
    static void startServer(EtcdCluster shared) {
        etcd = shared;
        client = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        client.close();
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return EtcdDlm.create(client, options);
    }

}
