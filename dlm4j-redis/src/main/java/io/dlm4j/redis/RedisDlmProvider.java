package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.spi.DlmProvider;
import io.dlm4j.spi.Redacted;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Serves {@code redis://[user:password@]host:port[/database][?password=...&prefix=...]},
 * {@code rediss://...} (TLS) and {@code redlock://host1:port1,host2:port2,host3:port3[?...]}.
 * The port defaults to 6379. The clients it makes fail commands at once while disconnected
 * and time them out after the Dlm's operation timeout; the Dlm closes them.
 */
public final class RedisDlmProvider implements DlmProvider {

    private static final int DEFAULT_PORT = 6379;

    @Override
    public Set<String> schemes() {
        return Set.of("redis", "rediss", "redlock");
    }

    @Override
    public Dlm create(String uri, DlmOptions options) {
        ParsedUri parsed = ParsedUri.parse(uri);
        if (parsed.scheme.equals("redlock")) {
            List<RedisNode> nodes = new ArrayList<>();
            for (String host : parsed.hosts) {
                nodes.add(node(parsed, host, options.operationTimeout()));
            }
            return RedlockDlm.createOnNodes(nodes, options, parsed.prefix);
        }
        if (parsed.hosts.size() != 1) {
            throw new IllegalArgumentException("uri of " + parsed.scheme + ": names one host, use redlock:// for "
                    + "several masters: " + Redacted.uri(uri));
        }
        return RedisDlm.create(node(parsed, parsed.hosts.get(0), options.operationTimeout()), options, parsed.prefix);
    }

    private static RedisNode node(ParsedUri uri, String hostAndPort, Duration timeout) {
        int colon = hostAndPort.lastIndexOf(':');
        String host = colon < 0 ? hostAndPort : hostAndPort.substring(0, colon);
        int port = DEFAULT_PORT;
        if (colon >= 0) {
            try {
                port = Integer.parseInt(hostAndPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("uri port must be a number from 1 to 65535: '" + hostAndPort + "'");
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("uri must name a host: '" + hostAndPort + "'");
        }
        RedisURI.Builder redisUri = RedisURI.builder().withHost(host).withPort(port)
                .withSsl(uri.scheme.equals("rediss")).withDatabase(uri.database).withTimeout(timeout);
        if (uri.password != null) {
            if (uri.user != null) {
                redisUri.withAuthentication(uri.user, uri.password.toCharArray());
            } else {
                redisUri.withPassword(uri.password.toCharArray());
            }
        }
        RedisClient client = RedisClient.create(redisUri.build());
        client.setOptions(ClientOptions.builder()
                .socketOptions(SocketOptions.builder().connectTimeout(timeout.compareTo(Duration.ofSeconds(10)) < 0
                        ? timeout : Duration.ofSeconds(10)).build())
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        return new RedisNode(client, true, timeout, host + ":" + port);
    }

    /** The parts of a redis://, rediss:// or redlock:// URI. */
    private record ParsedUri(String scheme, String user, String password, List<String> hosts, int database,
                             String prefix) {

        static ParsedUri parse(String uri) {
            int schemeEnd = uri.indexOf("://");
            if (schemeEnd < 0) {
                throw new IllegalArgumentException("uri must look like redis://host:port, was '" + Redacted.uri(uri) + "'");
            }
            String scheme = uri.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
            String rest = uri.substring(schemeEnd + 3);
            Map<String, String> query = new HashMap<>();
            int question = rest.indexOf('?');
            if (question >= 0) {
                for (String pair : rest.substring(question + 1).split("&")) {
                    if (!pair.isEmpty()) {
                        int eq = pair.indexOf('=');
                        query.put(decode(eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(Locale.ROOT),
                                eq < 0 ? "" : decode(pair.substring(eq + 1)));
                    }
                }
                rest = rest.substring(0, question);
            }
            String user = null;
            String password = query.remove("password");
            int at = rest.lastIndexOf('@');
            if (at >= 0) {
                String userInfo = rest.substring(0, at);
                rest = rest.substring(at + 1);
                int colon = userInfo.indexOf(':');
                String name = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
                user = name.isEmpty() ? null : name;
                if (colon >= 0) {
                    password = decode(userInfo.substring(colon + 1));
                } else if (password == null) {
                    password = user; // redis://secret@host: a password alone, as redis-cli reads it
                    user = null;
                }
            }
            int database = 0;
            int slash = rest.indexOf('/');
            if (slash >= 0) {
                String db = rest.substring(slash + 1);
                rest = rest.substring(0, slash);
                if (!db.isEmpty()) {
                    try {
                        database = Integer.parseInt(db);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("uri database must be a number, was '" + db + "'");
                    }
                }
            }
            String prefix = query.containsKey("prefix") ? query.remove("prefix") : RedisDlm.DEFAULT_KEY_PREFIX;
            if (!query.isEmpty()) {
                throw new IllegalArgumentException("uri options " + query.keySet()
                        + " are unknown; known are password and prefix");
            }
            Set<String> hosts = new LinkedHashSet<>();
            for (String host : rest.split(",")) {
                String trimmed = host.trim();
                if (trimmed.isEmpty()) {
                    throw new IllegalArgumentException("uri must name a host in every place of its list: '" + Redacted.uri(uri) + "'");
                }
                String normal = trimmed.contains(":") ? trimmed : trimmed + ":" + DEFAULT_PORT;
                if (!hosts.add(normal)) {
                    throw new IllegalArgumentException("uri lists the master " + normal
                            + " twice; Redlock masters must be distinct");
                }
            }
            return new ParsedUri(scheme, user, password, List.copyOf(hosts), database, prefix);
        }

        private static String decode(String text) {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        }
    }
}
