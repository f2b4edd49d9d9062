package io.dlm4j.testservers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The launcher's calls to one etcd process through its JSON gateway ({@code /v3/...} and
 * {@code /health} on the client port), and the reading of the answers. The few fields it reads are
 * matched with patterns: this module has no JSON library and no etcd client.
 *
 * <p>One per process: a fresh client for each, so no pooled connection to a dead process is reused.
 */
final class EtcdHttp {

    /** For health and status polls: a paused member must not hold them up for long. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** For key-value requests: etcd gives up on a proposal after about 5 s itself. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    static final Pattern HEALTHY = Pattern.compile("\"health\"\\s*:\\s*\"true\"");
    static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"(\\d+)\"");
    static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"(\\d+)\"");
    static final Pattern RAFT_TERM = Pattern.compile("\"raftTerm\"\\s*:\\s*\"(\\d+)\"");
    static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern VALUE = Pattern.compile("\"value\"\\s*:\\s*\"([A-Za-z0-9+/=]*)\"");
    /** One entry of a member list: group 1 the id, group 2 the peer URLs. */
    static final Pattern MEMBER = Pattern.compile("\\{\"ID\"\\s*:\\s*\"(\\d+)\"[^{}]*?\"peerURLs\"\\s*:\\s*\\[([^\\]]*)\\]");

    record Response(int status, String body) {
    }

    private final String endpoint;
    private final String memberName;
    private final HttpClient client;

    /** For the process serving {@code endpoint} ({@code http://127.0.0.1:C}); the name is for messages. */
    EtcdHttp(String endpoint, String memberName) {
        this.endpoint = endpoint;
        this.memberName = memberName;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(PROBE_TIMEOUT)
                .build();
    }

    /**
     * A key-value call ({@code /v3/kv/...}) that must succeed: its body.
     *
     * @throws IllegalStateException if etcd answers with an error
     * @throws UncheckedIOException  if it does not answer
     */
    String kv(String path, String body) {
        Response r = request("POST", path, body, REQUEST_TIMEOUT);
        if (r.status() != 200 || r.body().contains("\"error\"")) {
            throw new IllegalStateException("etcd " + memberName + " " + path + " failed: HTTP " + r.status() + " " + r.body());
        }
        return r.body();
    }

    /** One call; a null {@code body} sends none. Throws {@link UncheckedIOException} if it cannot be made in time. */
    Response request(String method, String path, String body, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(timeout);
        if (body != null) {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + endpoint + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling etcd " + memberName, e);
        }
    }

    /** A key or value as the gateway takes it: base64 of its UTF-8 bytes. */
    static String b64(String s) {
        Objects.requireNonNull(s, "key");
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of the first key in a range answer; null without keys; "" for an empty value (omitted in JSON). */
    static String decodeValue(String body) {
        if (!body.contains("\"kvs\"")) {
            return null;
        }
        String value = find(VALUE, body);
        return value == null ? "" : new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
    }

    /** Group 1 of the first match, or null. */
    static String find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? m.group(1) : null;
    }
}
