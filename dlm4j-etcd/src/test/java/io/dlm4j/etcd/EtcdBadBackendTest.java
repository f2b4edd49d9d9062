package io.dlm4j.etcd;

import io.dlm4j.testkit.BadBackendSuite;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;

import java.util.List;

/** An etcd that is down, hung, frozen or not etcd at all, through {@code etcd://}. */
class EtcdBadBackendTest extends BadBackendSuite {

    @Override
    protected String uri(List<String> hostPorts) {
        return "etcd://" + String.join(",", hostPorts);
    }

    @Override
    protected String backendName() {
        return "etcd";
    }

    @Override
    protected FreezableServers startFreezableServers() {
        EtcdCluster etcd = EtcdCluster.startSingle();
        EtcdMember member = etcd.member(0);
        return new FreezableServers() {
            @Override
            public List<String> hostPorts() {
                return List.of(member.hostAndPort());
            }

            @Override
            public void freeze() {
                member.pause();
            }

            @Override
            public void thaw() {
                member.resume();
            }

            @Override
            public void close() {
                etcd.close();
            }
        };
    }
}
