package io.dlm4j;

import java.time.Duration;

/**
 * What a {@link Mutex} is made of: a key and, optionally, an owner, a ttl and whether its leases
 * refresh themselves. What is left out (null) falls back to the {@link DlmOptions} defaults.
 */
public final class MutexOptions {

    private final String key;
    private final String owner;
    private final Duration ttl;
    private final Boolean autoRefresh;

    private MutexOptions(Builder b) {
        this.key = b.key;
        this.owner = b.owner;
        this.ttl = b.ttl;
        this.autoRefresh = b.autoRefresh;
    }

    /**
     * A builder for a mutex on {@code key}.
     *
     * @throws NullPointerException     if {@code key} is null
     * @throws IllegalArgumentException if it is not 1 to 512 characters, or has an unpaired surrogate
     */
    public static Builder builder(String key) {
        return new Builder(Arguments.key(key));
    }

    /** The lock's name. */
    public String key() {
        return key;
    }

    /** The owner, or null for the Dlm's default owner. */
    public String owner() {
        return owner;
    }

    /** The ttl, or null for the Dlm's default ttl. */
    public Duration ttl() {
        return ttl;
    }

    /** Whether leases refresh themselves, or null for the Dlm's default. */
    public Boolean autoRefresh() {
        return autoRefresh;
    }

    @Override
    public String toString() {
        return "MutexOptions{key=" + key + ", owner=" + owner + ", ttl=" + ttl
                + ", autoRefresh=" + autoRefresh + '}';
    }

    public static final class Builder {
        private final String key;
        private String owner;
        private Duration ttl;
        private Boolean autoRefresh;

        private Builder(String key) {
            this.key = key;
        }

        /**
         * The owner; null means the Dlm's default owner.
         *
         * @throws IllegalArgumentException if it is not 1 to 256 characters, is blank, or has an
         *                                  unpaired surrogate
         */
        public Builder owner(String owner) {
            this.owner = owner == null ? null : Arguments.owner(owner, "owner");
            return this;
        }

        /**
         * The ttl; null means the Dlm's default ttl.
         *
         * @throws IllegalArgumentException if it is not positive, or longer than 365 days
         */
        public Builder ttl(Duration ttl) {
            this.ttl = ttl == null ? null : Arguments.ttl(ttl, "ttl");
            return this;
        }

        /** Whether leases refresh themselves; null means the Dlm's default. */
        public Builder autoRefresh(Boolean autoRefresh) {
            this.autoRefresh = autoRefresh;
            return this;
        }

        /** The options as set; what was left out falls back to the Dlm's defaults. */
        public MutexOptions build() {
            return new MutexOptions(this);
        }
    }
}
