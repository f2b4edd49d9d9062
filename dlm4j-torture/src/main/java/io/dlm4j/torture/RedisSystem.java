package io.dlm4j.torture;

import io.dlm4j.testservers.RedisServer;

import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * One Redis without persistence ({@code --save "" --appendonly no}): a restart comes back empty. The
 * workers reach it through a loopback proxy.
 */
final class RedisSystem implements SystemUnderTest {

    /**
     * The lock keys ({@code dlm4j:{key}}, not the fence counters) that have time left, with their
     * values ({@code token:owner}), as one string: {@link RedisServer#command} reads one line.
     */
    private static final String LIVE_HOLDS = "local out = {} "
            + "for _, k in ipairs(redis.call('keys', 'dlm4j:{*}')) do "
            + "if redis.call('pttl', k) > 0 then table.insert(out, k .. '=' .. redis.call('get', k)) end end "
            + "return table.concat(out, ' ')";

    private final RedisServer server = RedisServer.start();
    private final LoopbackProxy proxy = startProxy(server);

    private static LoopbackProxy startProxy(RedisServer server) {
        try {
            return LoopbackProxy.start(server.port());
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "redis";
    }

    @Override
    public String uri() {
        return "redis://" + proxy.hostAndPort();
    }

    @Override
    public List<LoopbackProxy> proxies() {
        return List.of(proxy);
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.KILL_RESTART_SERVER, Fault.PAUSE_SERVER);
    }

    @Override
    public Heal inject(Fault fault, Random random) {
        return switch (fault) {
            case KILL_RESTART_SERVER -> {
                server.kill();
                yield server::restart;
            }
            case PAUSE_SERVER -> {
                server.pause();
                yield server::resume;
            }
            default -> throw new IllegalArgumentException("fault " + fault.label() + " does not apply to redis");
        };
    }

    @Override
    public Set<String> liveHolds() {
        String reply = server.command("EVAL", LIVE_HOLDS, "0");
        if (reply == null || reply.startsWith("-")) {
            throw new IllegalStateException("redis could not list its holds: " + reply);
        }
        return reply.isBlank() ? Set.of() : Set.of(reply.trim().split(" "));
    }

    @Override
    public void close() {
        proxy.close();
        server.close();
    }
}
