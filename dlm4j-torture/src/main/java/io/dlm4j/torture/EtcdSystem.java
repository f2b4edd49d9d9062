package io.dlm4j.torture;

import io.dlm4j.testkit.EtcdCluster;

import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * A three-member etcd cluster with the testkit's fast elections (heartbeat 50 ms, election 500 ms),
 * so that the minimum lease is 1 s and a 1 s ttl is granted as asked.
 */
final class EtcdSystem implements SystemUnderTest {

    private static final Duration ELECTION_WAIT = Duration.ofSeconds(10);

    private final EtcdCluster cluster = EtcdCluster.start(3);

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public String uri() {
        return cluster.endpointsUri();
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.ETCD_KILL_LEADER, Fault.PAUSE_SERVER);
    }

    @Override
    public Heal inject(Fault fault, Random random) {
        EtcdCluster.Member leader = cluster.awaitLeader(ELECTION_WAIT);
        return switch (fault) {
            case ETCD_KILL_LEADER -> {
                leader.kill();
                yield () -> {
                    leader.restart();
                    cluster.awaitLeader(ELECTION_WAIT);
                };
            }
            case PAUSE_SERVER -> {
                leader.pause();
                yield () -> {
                    leader.resume();
                    cluster.awaitLeader(ELECTION_WAIT);
                };
            }
            default -> throw new IllegalArgumentException("fault " + fault.label() + " does not apply to etcd");
        };
    }

    @Override
    public void close() {
        cluster.close();
    }
}
