package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.spi.DlmProvider;
import io.dlm4j.spi.Redacted;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;

import javax.net.ssl.SSLException;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Serves {@code etcd://[user:password@]host:port[,host:port...][?prefix=...]} (plain HTTP/2) and
 * {@code etcds://} (TLS, trusting the JVM's certificate authorities). The port defaults to 2379.
 * With a user and password (percent-encoded) the client authenticates as that user; messages name
 * the user, never the password.
 */
public final class EtcdDlmProvider implements DlmProvider {

    private static final int DEFAULT_PORT = 2379;

    @Override
    public Set<String> schemes() {
        return Set.of("etcd", "etcds");
    }

    @Override
    public Dlm create(String uri, DlmOptions options) {
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd < 0) {
            throw new IllegalArgumentException("uri must look like etcd://host:port, was '" + Redacted.uri(uri) + "'");
        }
        boolean tls = uri.substring(0, schemeEnd).toLowerCase(Locale.ROOT).equals("etcds");
        String rest = uri.substring(schemeEnd + 3);
        String prefix = EtcdDlm.DEFAULT_KEY_PREFIX;
        int question = rest.indexOf('?');
        if (question >= 0) {
            for (String pair : rest.substring(question + 1).split("&")) {
                if (pair.startsWith("prefix=")) {
                    prefix = URLDecoder.decode(pair.substring("prefix=".length()), StandardCharsets.UTF_8);
                } else if (!pair.isEmpty()) {
                    throw new IllegalArgumentException("uri option '" + pair + "' is unknown; known is prefix");
                }
            }
            rest = rest.substring(0, question);
        }
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        Credentials credentials = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            credentials = Credentials.of(rest.substring(0, at));
            rest = rest.substring(at + 1);
        }
        Set<String> hosts = new LinkedHashSet<>();
        List<URI> endpoints = new ArrayList<>();
        for (String host : rest.split(",")) {
            String trimmed = host.trim();
            if (trimmed.isEmpty() || trimmed.startsWith(":")) {
                throw new IllegalArgumentException("uri must name a host in every place of its list: '"
                        + Redacted.uri(uri) + "'");
            }
            String withPort = trimmed.contains(":") ? trimmed : trimmed + ":" + DEFAULT_PORT;
            if (!hosts.add(withPort)) {
                throw new IllegalArgumentException("uri lists the endpoint " + withPort + " twice");
            }
            try {
                endpoints.add(URI.create((tls ? "https://" : "http://") + withPort));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("uri endpoint '" + withPort + "' is malformed", e);
            }
        }
        ClientBuilder builder = Client.builder().endpoints(endpoints).connectTimeout(options.operationTimeout());
        if (credentials != null) {
            builder.user(ByteSequence.from(credentials.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(credentials.password(), StandardCharsets.UTF_8));
        }
        if (tls) {
            try {
                // jetcd speaks TLS only with an SSL context; the default one trusts the JVM's authorities
                builder.sslContext(ssl -> { });
            } catch (SSLException e) {
                throw new IllegalArgumentException("uri asks for TLS, which this JVM cannot set up: " + e.getMessage(), e);
            }
        }
        Client client = builder.build();
        String address = (credentials != null ? credentials.user() + "@" : "") + String.join(",", hosts);
        return EtcdDlm.createOwning(client, address, prefix, options);
    }

    /**
     * {@code user:password} before the hosts, percent-encoded as in any URI. Both are needed: etcd
     * authenticates with the pair, and a uri that named only a user would silently connect without.
     */
    private record Credentials(String user, String password) {
        static Credentials of(String userInfo) {
            int colon = userInfo.indexOf(':');
            if (colon <= 0 || colon == userInfo.length() - 1) {
                // no part of it is repeated: a lone part may well be the password
                throw new IllegalArgumentException("uri must give both a user and a password before its hosts "
                        + "(etcd://user:password@host:port, percent-encoded)");
            }
            return new Credentials(decode(userInfo.substring(0, colon)), decode(userInfo.substring(colon + 1)));
        }

        /** Percent-decoding as URIs have it: unlike a form, '+' is itself. */
        private static String decode(String part) {
            try {
                return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                // the decoder's own message quotes the text, which may be the password
                throw new IllegalArgumentException("uri has a malformed %-escape in its user or password");
            }
        }

        @Override
        public String toString() {
            return "Credentials[user=" + user + ", password=***]";
        }
    }
}
