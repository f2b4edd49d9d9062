package io.dlm4j.torture;

import io.dlm4j.testservers.RedisServer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** Three independent Redis masters without persistence, each behind a loopback proxy of its own. */
final class RedlockSystem implements SystemUnderTest {

    private final List<RedisServer> masters = new ArrayList<>();
    private final List<LoopbackProxy> proxies = new ArrayList<>();

    RedlockSystem() {
        try {
            for (int i = 0; i < 3; i++) {
                masters.add(RedisServer.start());
                proxies.add(LoopbackProxy.start(masters.get(i).port()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "redlock";
    }

    @Override
    public String uri() {
        return "redlock://" + proxies.stream().map(LoopbackProxy::hostAndPort).collect(Collectors.joining(","));
    }

    @Override
    public List<LoopbackProxy> proxies() {
        return List.copyOf(proxies);
    }

    /**
     * The first network fault of a scenario, and every other one after it, hits all three masters,
     * every connection of them (NetworkFault): no quorum can route around it. The others hit one
     * master, picked at random: a minority whose traffic is late, where a majority answers in time.
     */
    @Override
    public NetworkTarget networkTarget(Random random, int injection) {
        if (injection % 2 == 0) {
            return new NetworkTarget(List.copyOf(proxies), "all 3 masters");
        }
        int i = random.nextInt(proxies.size());
        return new NetworkTarget(List.of(proxies.get(i)), "master " + (i + 1) + " of 3");
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.REDLOCK_KILL_MINORITY, Fault.PAUSE_SERVER);
    }

    @Override
    public Heal inject(Fault fault, Random random) {
        RedisServer master = masters.get(random.nextInt(masters.size()));
        return switch (fault) {
            case REDLOCK_KILL_MINORITY -> {
                master.kill();
                yield master::restart;
            }
            case PAUSE_SERVER -> {
                master.pause();
                yield master::resume;
            }
            default -> throw new IllegalArgumentException("fault " + fault.label() + " does not apply to redlock");
        };
    }

    @Override
    public void close() {
        for (LoopbackProxy p : proxies) {
            p.close();
        }
        for (RedisServer m : masters) {
            m.close();
        }
    }
}
