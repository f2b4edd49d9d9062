package io.dlm4j;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * The defaults and settings of a {@link Dlm}. Immutable; made with {@link #builder()}.
 */
public final class DlmOptions {

    public static final Duration DEFAULT_TTL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_WAITING_INTERVAL = Duration.ofMillis(100);
    public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(10);

    private final String defaultOwner;
    private final Duration defaultTtl;
    private final Duration waitingInterval;
    private final boolean autoRefresh;
    private final Clock clock;
    private final Duration operationTimeout;
    private final Executor callbackExecutor;

    private DlmOptions(Builder b) {
        this.defaultOwner = b.defaultOwner != null ? b.defaultOwner : hostName();
        this.defaultTtl = b.defaultTtl;
        this.waitingInterval = b.waitingInterval;
        this.autoRefresh = b.autoRefresh;
        this.clock = b.clock;
        this.operationTimeout = b.operationTimeout;
        this.callbackExecutor = b.callbackExecutor;
    }

    /** Every option at its default: the host name as owner, 30 s ttl, 100 ms waiting interval. */
    public static DlmOptions defaults() {
        return builder().build();
    }

    /** A builder with every option at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from these options. */
    public Builder toBuilder() {
        return new Builder()
                .defaultOwner(defaultOwner)
                .defaultTtl(defaultTtl)
                .waitingInterval(waitingInterval)
                .autoRefresh(autoRefresh)
                .clock(clock)
                .operationTimeout(operationTimeout)
                .callbackExecutor(callbackExecutor);
    }

    /**
     * Owner of mutexes made without one; by default the host name, so two processes on one host
     * are one holder by the owner rule: the second's lock is a relock of the first's hold (same
     * token, no waiting), and either's unlock ends it for both. Give each process an owner of its
     * own ({@link #processOwner()}, a pod name) where they must exclude each other.
     */
    public String defaultOwner() {
        return defaultOwner;
    }

    /**
     * An owner unique to this process on this host: the host name (as the default owner has it)
     * and the process id, as {@code host:pid}. Two processes on one host that use it exclude each
     * other, as {@code flock(1)} does; the {@code dlm4j} command's default owner is this.
     */
    public static String processOwner() {
        return hostName() + ":" + ProcessHandle.current().pid();
    }

    /** Ttl of mutexes made without one; by default 30 s. */
    public Duration defaultTtl() {
        return defaultTtl;
    }

    /** The longest pause between two tries while waiting for a lock; by default 100 ms. */
    public Duration waitingInterval() {
        return waitingInterval;
    }

    /** Whether leases refresh themselves until closed or lost; by default false. */
    public boolean autoRefresh() {
        return autoRefresh;
    }

    /** The client's clock, used for local estimates only ({@link Lease#expiresAt()}). */
    public Clock clock() {
        return clock;
    }

    /** The deadline of one backend operation; by default 10 s. */
    public Duration operationTimeout() {
        return operationTimeout;
    }

    /**
     * Where {@link Lease#onLost(Runnable)} callbacks run; empty (the default) for a thread of the
     * Dlm's own, named {@code dlm4j-callbacks-N}, that runs them one at a time.
     */
    public Optional<Executor> callbackExecutor() {
        return Optional.ofNullable(callbackExecutor);
    }

    @Override
    public String toString() {
        return "DlmOptions{defaultOwner=" + defaultOwner + ", defaultTtl=" + defaultTtl
                + ", waitingInterval=" + waitingInterval + ", autoRefresh=" + autoRefresh
                + ", clock=" + clock + ", operationTimeout=" + operationTimeout + '}';
    }

    private static String hostName() {
        String fromEnvironment = System.getenv("HOSTNAME");
        try {
            String name = InetAddress.getLocalHost().getHostName();
            if (name != null && !name.isBlank()) {
                return name;
            }
        } catch (UnknownHostException e) {
            // fall through to the environment: containers often resolve no name for themselves
        }
        return fromEnvironment != null && !fromEnvironment.isBlank() ? fromEnvironment : "localhost";
    }

    public static final class Builder {
        private String defaultOwner;
        private Duration defaultTtl = DEFAULT_TTL;
        private Duration waitingInterval = DEFAULT_WAITING_INTERVAL;
        private boolean autoRefresh;
        private Clock clock = Clock.systemUTC();
        private Duration operationTimeout = DEFAULT_OPERATION_TIMEOUT;
        private Executor callbackExecutor;

        private Builder() {
        }

        /**
         * The owner of mutexes made without one; by default the host name.
         *
         * @throws NullPointerException     if {@code owner} is null
         * @throws IllegalArgumentException if it is not 1 to 256 characters, is blank, or has an
         *                                  unpaired surrogate
         */
        public Builder defaultOwner(String owner) {
            this.defaultOwner = Arguments.owner(owner, "defaultOwner");
            return this;
        }

        /**
         * The ttl of mutexes made without one; by default 30 s ({@link #DEFAULT_TTL}).
         *
         * @throws NullPointerException     if {@code ttl} is null
         * @throws IllegalArgumentException if it is not positive, or longer than 365 days
         */
        public Builder defaultTtl(Duration ttl) {
            this.defaultTtl = Arguments.ttl(ttl, "defaultTtl");
            return this;
        }

        /**
         * The longest pause between two tries while waiting for a lock, where no release
         * notification comes first; by default 100 ms ({@link #DEFAULT_WAITING_INTERVAL}). Each
         * pause is drawn between half of it and all of it, so that waiters do not try in step.
         *
         * @throws NullPointerException     if {@code interval} is null
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder waitingInterval(Duration interval) {
            this.waitingInterval = Arguments.positive(interval, "waitingInterval");
            return this;
        }

        /**
         * Whether leases of mutexes that do not say otherwise refresh themselves, at about a third
         * of their ttl, until closed or lost; by default false.
         */
        public Builder autoRefresh(boolean autoRefresh) {
            this.autoRefresh = autoRefresh;
            return this;
        }

        /**
         * The client's clock, used only for the local estimates {@link Lease#expiresAt()} and
         * {@link LockInfo#expiresAt()}; never for an expiry decision, which the backend's clock
         * makes. By default {@link Clock#systemUTC()}.
         *
         * @throws NullPointerException if {@code clock} is null
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock must not be null");
            return this;
        }

        /**
         * The deadline of one backend operation (one acquire, refresh, release, read or ping,
         * including its round trips); by default 10 s ({@link #DEFAULT_OPERATION_TIMEOUT}). An
         * operation that passes it fails with {@link LockBackendException}.
         *
         * @throws NullPointerException     if {@code timeout} is null
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder operationTimeout(Duration timeout) {
            this.operationTimeout = Arguments.positive(timeout, "operationTimeout");
            return this;
        }

        /**
         * Runs {@link Lease#onLost(Runnable)} callbacks on {@code executor} (as Caffeine's
         * {@code executor(Executor)}), never on the thread that refreshes leases, so that a slow
         * callback cannot delay the refreshes of other leases. {@code null} restores the default:
         * a thread of the Dlm's own. A callback the executor rejects runs on the thread that found
         * the loss, and the rejection is logged. The Dlm never shuts down an executor passed here.
         */
        public Builder callbackExecutor(Executor executor) {
            this.callbackExecutor = executor;
            return this;
        }

        /** The options as set; what was not set keeps its default. */
        public DlmOptions build() {
            return new DlmOptions(this);
        }
    }
}
