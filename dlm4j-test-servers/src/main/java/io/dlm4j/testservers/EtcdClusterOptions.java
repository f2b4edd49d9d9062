package io.dlm4j.testservers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings of an {@link EtcdCluster}: the members' raft timing and extra command-line arguments.
 * Immutable; made with {@link #builder()}.
 */
public final class EtcdClusterOptions {

    private final Duration heartbeatInterval;
    private final Duration electionTimeout;
    private final List<String> extraArgs;

    private EtcdClusterOptions(Builder b) {
        if (b.heartbeatInterval != null && b.electionTimeout != null
                && b.electionTimeout.toMillis() < 5 * b.heartbeatInterval.toMillis()) {
            throw new IllegalArgumentException("etcd wants an election timeout of at least 5 heartbeats: "
                    + b.electionTimeout.toMillis() + " ms < 5 × " + b.heartbeatInterval.toMillis() + " ms");
        }
        this.heartbeatInterval = b.heartbeatInterval;
        this.electionTimeout = b.electionTimeout;
        this.extraArgs = List.copyOf(b.extraArgs);
    }

    /** Quick elections: {@code --heartbeat-interval 50 --election-timeout 500}; 1 s leases possible. */
    public static EtcdClusterOptions defaults() {
        return builder().heartbeatInterval(Duration.ofMillis(50)).electionTimeout(Duration.ofMillis(500)).build();
    }

    /** etcd's own timing (heartbeat 100 ms, election timeout 1000 ms): leases are at least 2 s. */
    public static EtcdClusterOptions etcdDefaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code --heartbeat-interval}; etcd's default 100 ms when not set. */
    public Duration heartbeatInterval() {
        return heartbeatInterval != null ? heartbeatInterval : Duration.ofMillis(100);
    }

    /** {@code --election-timeout}; etcd's default 1000 ms when not set. */
    public Duration electionTimeout() {
        return electionTimeout != null ? electionTimeout : Duration.ofMillis(1000);
    }

    /**
     * The smallest lease TTL the members grant: a lease asked for with a shorter TTL gets this one.
     * Computed as etcd 3.4 does: {@code ceil((3 * electionTicks / 2) * heartbeat)} seconds, where
     * {@code electionTicks = electionTimeout / heartbeat} (integer divisions).
     */
    public Duration minimumLeaseTtl() {
        long heartbeat = heartbeatInterval().toMillis();
        long ticks = electionTimeout().toMillis() / heartbeat;
        long millis = (3 * ticks / 2) * heartbeat;
        return Duration.ofSeconds((millis + 999) / 1000);
    }

    /** Arguments appended to every member's command line, e.g. {@code "--quota-backend-bytes", "16777216"}. */
    public List<String> extraArgs() {
        return extraArgs;
    }

    /** The timing flags that were set; unset ones are left to etcd's defaults. */
    List<String> timingArgs() {
        List<String> args = new ArrayList<>();
        if (heartbeatInterval != null) {
            args.addAll(List.of("--heartbeat-interval", Long.toString(heartbeatInterval.toMillis())));
        }
        if (electionTimeout != null) {
            args.addAll(List.of("--election-timeout", Long.toString(electionTimeout.toMillis())));
        }
        return args;
    }

    public static final class Builder {
        private Duration heartbeatInterval;
        private Duration electionTimeout;
        private final List<String> extraArgs = new ArrayList<>();

        private Builder() {
        }

        /** See {@link EtcdClusterOptions#heartbeatInterval()}. */
        public Builder heartbeatInterval(Duration interval) {
            this.heartbeatInterval = positiveMillis(interval, "interval");
            return this;
        }

        /** See {@link EtcdClusterOptions#electionTimeout()}. */
        public Builder electionTimeout(Duration timeout) {
            this.electionTimeout = positiveMillis(timeout, "timeout");
            return this;
        }

        /** Adds arguments to every member's command line; see {@link EtcdClusterOptions#extraArgs()}. */
        public Builder extraArgs(String... args) {
            for (String arg : args) {
                extraArgs.add(Objects.requireNonNull(arg, "arg"));
            }
            return this;
        }

        public EtcdClusterOptions build() {
            return new EtcdClusterOptions(this);
        }

        private static Duration positiveMillis(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.toMillis() <= 0) {
                throw new IllegalArgumentException(name + " must be at least 1 ms: " + d);
            }
            return d;
        }
    }
}
