package io.dlm4j.etcd;

import io.dlm4j.DlmOptions;
import io.dlm4j.testservers.EtcdMember;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Small helpers shared by the etcd backend's own tests: raw jetcd reads, member metrics, keys. */
final class EtcdTestSupport {

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private EtcdTestSupport() {
    }

    /** A key no other test uses. */
    static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    static DlmOptions.Builder options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).operationTimeout(Duration.ofSeconds(5));
    }

    /** A jetcd client on the given endpoints ({@code http://127.0.0.1:C}). */
    static Client client(List<String> endpoints) {
        return Client.builder().endpoints(endpoints.toArray(String[]::new)).build();
    }

    static Client client(EtcdMember... members) {
        return client(java.util.Arrays.stream(members).map(EtcdMember::endpoint).toList());
    }

    /** The stored key of a lock under the default prefix, read linearizably through jetcd. */
    static Optional<KeyValue> stored(Client client, String key) {
        return read(client, EtcdDlm.DEFAULT_KEY_PREFIX + key, GetOption.DEFAULT);
    }

    /** As {@link #stored}, but a serializable read: what the member the client talks to has applied. */
    static Optional<KeyValue> storedLocally(Client client, String key) {
        return read(client, EtcdDlm.DEFAULT_KEY_PREFIX + key, GetOption.builder().withSerializable(true).build());
    }

    private static Optional<KeyValue> read(Client client, String fullKey, GetOption option) {
        try {
            return client.getKVClient().get(bytes(fullKey), option).get(10, TimeUnit.SECONDS)
                    .getKvs().stream().findFirst();
        } catch (Exception e) {
            throw new IllegalStateException("reading " + fullKey + " through jetcd failed", e);
        }
    }

    /** etcd's answer to LeaseTimeToLive: TTL -1 once the lease is gone (expired or revoked). */
    static LeaseTimeToLiveResponse timeToLive(Client client, long leaseId) {
        try {
            return client.getLeaseClient().timeToLive(leaseId, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("timeToLive of lease " + leaseId + " failed", e);
        }
    }

    /** The ids of all leases the member knows now ({@code POST /v3/lease/leases}; jetcd 0.8 has no call for it). */
    static List<String> leaseIds(EtcdMember member) {
        String body = http(member, "POST", "/v3/lease/leases", "{}");
        List<String> ids = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"ID\"\\s*:\\s*\"(-?\\d+)\"").matcher(body);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    /**
     * The sum of the samples of the Prometheus metric {@code name} on {@code member}
     * ({@code GET /metrics}) whose labels contain every one of {@code labels} (e.g.
     * {@code grpc_method="Txn"}); 0 if there are none.
     */
    static double metric(EtcdMember member, String name, String... labels) {
        String body = metrics(member);
        double sum = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            String series = line.substring(0, Math.max(0, line.lastIndexOf(' ')));
            String metricName = series.contains("{") ? series.substring(0, series.indexOf('{')) : series;
            if (!metricName.equals(name)) {
                continue;
            }
            boolean matches = true;
            for (String label : labels) {
                matches &= series.contains(label);
            }
            if (matches) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    static String metrics(EtcdMember member) {
        return http(member, "GET", "/metrics", null);
    }

    private static String http(EtcdMember member, String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(member.endpoint() + path))
                    .timeout(Duration.ofSeconds(5));
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(method + " " + path + " on " + member + ": HTTP " + r.statusCode()
                        + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + " on " + member, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Transactions the member has handled (each acquire try is one; a failed try is not retried). */
    static long txns(EtcdMember member) {
        return (long) metric(member, "grpc_server_handled_total", "grpc_method=\"Txn\"");
    }

    /**
     * How many TCP connections on this host are established to {@code port} from the client side
     * (from {@code /proc/net/tcp}): a jetcd client holds one to each member it talks to.
     */
    static long connectionsTo(int port) {
        long count = 0;
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4) {
                    continue;
                }
                String remote = f[2];
                int remotePort = Integer.parseInt(remote.substring(remote.indexOf(':') + 1), 16);
                if (remotePort == port && f[3].equals("01")) { // 01 = ESTABLISHED
                    count++;
                }
            }
        }
        return count;
    }
}
