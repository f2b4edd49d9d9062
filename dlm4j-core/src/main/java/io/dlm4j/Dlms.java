package io.dlm4j;

import io.dlm4j.spi.DlmProvider;
import io.dlm4j.spi.Redacted;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Builds a {@link Dlm}, and the client it needs, from a URI. The backend artifacts on the class
 * path register their schemes through {@link DlmProvider}; the Dlm closes the client it made.
 *
 * <pre>
 *   memory:
 *   mongodb://host:port/db?collection=locks
 *   redis://host:port                    redlock://h1:p1,h2:p2,h3:p3
 *   etcd://host:port, etcds://host:port  jdbc:postgresql://..., jdbc:mysql://..., jdbc:h2:...
 * </pre>
 */
public final class Dlms {

    /** Where the provider of each known scheme lives, for the message when it is missing. */
    private static final Map<String, String> ARTIFACTS = Map.ofEntries(
            Map.entry("memory", "dlm4j-core"),
            Map.entry("mongodb", "dlm4j-mongo"),
            Map.entry("mongodb+srv", "dlm4j-mongo"),
            Map.entry("redis", "dlm4j-redis"),
            Map.entry("rediss", "dlm4j-redis"),
            Map.entry("redlock", "dlm4j-redis"),
            Map.entry("etcd", "dlm4j-etcd"),
            Map.entry("etcds", "dlm4j-etcd"),
            Map.entry("jdbc:postgresql", "dlm4j-jdbc"),
            Map.entry("jdbc:mysql", "dlm4j-jdbc"),
            Map.entry("jdbc:mariadb", "dlm4j-jdbc"),
            Map.entry("jdbc:h2", "dlm4j-jdbc"));

    private Dlms() {
    }

    /**
     * A Dlm on the backend the URI names, with a client made for it; the Dlm closes that client
     * on {@link Dlm#close()}. Credentials go where the backend's own URIs put them, and never
     * appear in a message.
     *
     * @throws NullPointerException     if {@code uri} or {@code options} is null
     * @throws LockBackendException     if a backend that sets itself up at once (MongoDB checks its
     *                                  index) fails or cannot be reached; the message names it
     * @throws IllegalArgumentException for a malformed URI, an unknown scheme, or a scheme whose
     *                                  backend artifact is not on the class path (the message names it)
     */
    public static Dlm fromUri(String uri, DlmOptions options) {
        Objects.requireNonNull(uri, "uri must not be null");
        Objects.requireNonNull(options, "options must not be null");
        String scheme = schemeOf(uri);
        TreeSet<String> available = new TreeSet<>();
        for (DlmProvider provider : ServiceLoader.load(DlmProvider.class, Dlms.class.getClassLoader())) {
            if (provider.schemes().contains(scheme)) {
                return provider.create(uri, options);
            }
            available.addAll(provider.schemes());
        }
        String artifact = ARTIFACTS.get(scheme);
        if (artifact != null) {
            throw new IllegalArgumentException("uri scheme '" + scheme + "' needs the artifact io.dlm4j:" + artifact
                    + " on the class path; schemes available now: " + available);
        }
        throw new IllegalArgumentException("uri scheme '" + scheme + "' is unknown; dlm4j knows "
                + new TreeSet<>(ARTIFACTS.keySet()) + ", and schemes available now are " + available);
    }

    private static String schemeOf(String uri) {
        int colon = uri.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("uri must start with a scheme such as memory: or mongodb://, was '"
                    + Redacted.uri(uri) + "'");
        }
        String scheme = uri.substring(0, colon).toLowerCase(Locale.ROOT);
        if (scheme.equals("jdbc")) {
            int second = uri.indexOf(':', colon + 1);
            if (second < 0) {
                throw new IllegalArgumentException("uri of a JDBC backend must look like jdbc:postgresql://..., was '"
                        + Redacted.uri(uri) + "'");
            }
            scheme = uri.substring(0, second).toLowerCase(Locale.ROOT);
        }
        return scheme;
    }
}
