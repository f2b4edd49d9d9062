package io.dlm4j.torture;

import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.EtcdMember;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * A three-member etcd cluster with the launcher's fast elections (heartbeat 50 ms, election 500 ms),
 * so that the minimum lease is 1 s and a 1 s ttl is granted as asked. The workers reach each member's
 * client port through a loopback proxy; the members reach each other directly.
 */
final class EtcdSystem implements SystemUnderTest {

    private static final Duration ELECTION_WAIT = Duration.ofSeconds(10);

    private final EtcdCluster cluster = EtcdCluster.start(3);
    private final List<LoopbackProxy> proxies = new ArrayList<>();

    EtcdSystem() {
        try {
            for (EtcdMember m : cluster.members()) {
                proxies.add(LoopbackProxy.start(m.clientPort()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public String uri() {
        return "etcd://" + proxies.stream().map(LoopbackProxy::hostAndPort).collect(Collectors.joining(","));
    }

    @Override
    public List<LoopbackProxy> proxies() {
        return List.copyOf(proxies);
    }

    /** The client traffic of all three members: the members' own (peer) traffic goes around the proxies. */
    @Override
    public NetworkTarget networkTarget(Random random, int injection) {
        return new NetworkTarget(List.copyOf(proxies), "the client ports of all 3 members");
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.ETCD_KILL_LEADER, Fault.PAUSE_SERVER);
    }

    @Override
    public Heal inject(Fault fault, Random random) {
        EtcdMember leader = cluster.awaitLeader(ELECTION_WAIT);
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
        for (LoopbackProxy p : proxies) {
            p.close();
        }
        cluster.close();
    }
}
