package io.dlm4j.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;

import java.lang.reflect.Field;

/**
 * The address a user's {@link RedisClient} connects to. Lettuce does not expose it, yet every
 * backend failure must name the address, also when the server was down from the start. So it is
 * read from the client's private {@code redisURI} field; if that ever fails (another Lettuce
 * version, a module system that forbids it), the address is learnt from the server once connected.
 */
final class ClientAddress {

    private ClientAddress() {
    }

    static String of(RedisClient client) {
        try {
            Field field = RedisClient.class.getDeclaredField("redisURI");
            field.setAccessible(true);
            if (field.get(client) instanceof RedisURI uri && uri.getHost() != null) {
                return uri.getHost() + ":" + uri.getPort();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // fall back to the server's own answer after connecting
        }
        return null;
    }
}
