package io.dlm4j.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;

import java.lang.reflect.Field;

/**
 * The endpoints a user's jetcd {@link Client} talks to. jetcd does not expose them, yet every
 * backend failure must name the address; so they are read from the builder its connection manager keeps
 * ({@code target()}, such as {@code ip:///127.0.0.1:2379,127.0.0.1:2380}). If that ever fails
 * (another jetcd version), the message says "the client's endpoints".
 */
final class ClientEndpoints {

    private ClientEndpoints() {
    }

    static String of(Client client) {
        try {
            Object connections = privateField(client, "connectionManager");
            if (privateField(connections, "builder") instanceof ClientBuilder builder && builder.target() != null) {
                String target = builder.target();
                int authority = target.indexOf(":///");
                return authority >= 0 ? target.substring(authority + 4) : target;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // fall through: the message names no address but the client
        }
        return "the client's endpoints";
    }

    private static Object privateField(Object owner, String name) throws ReflectiveOperationException {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return field.get(owner);
    }
}
