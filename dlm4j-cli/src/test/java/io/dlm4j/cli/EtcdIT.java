package io.dlm4j.cli;

import io.dlm4j.testservers.EtcdCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The commands on one real etcd member. */
class EtcdIT extends BackendIT {

    private static EtcdCluster etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.startSingle();
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @Override
    String uri() {
        return etcd.endpointsUri();
    }
}
