package io.dlm4j.torture;

import io.dlm4j.testkit.RedisServer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** Three independent Redis masters without persistence. */
final class RedlockSystem implements SystemUnderTest {

    private final List<RedisServer> masters = new ArrayList<>();

    RedlockSystem() {
        try {
            for (int i = 0; i < 3; i++) {
                masters.add(RedisServer.start());
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
        return "redlock://" + masters.stream().map(RedisServer::hostAndPort).collect(Collectors.joining(","));
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
        for (RedisServer m : masters) {
            m.close();
        }
    }
}
