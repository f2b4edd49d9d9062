package io.dlm4j.redis;

import io.dlm4j.spi.HoldToRefresh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The arguments of one many-locks refresh script, and the validities its flags mean. */
record RefreshBatch(List<HoldToRefresh> holds, String[] locks, String[] ownersAndTtls) {

    /**
     * Locks per script: large enough that 10,000 auto-refreshed leases cost 20 commands per
     * period (60 on Redlock's 3 masters, under the 1 per 100 leases the engine aims at), small
     * enough that one script keeps the server busy for about a millisecond at most.
     */
    static final int SIZE = 500;

    static RefreshBatch of(List<HoldToRefresh> holds, RedisKeys keys) {
        String[] locks = new String[holds.size()];
        String[] ownersAndTtls = new String[2 * holds.size()];
        for (int i = 0; i < holds.size(); i++) {
            HoldToRefresh hold = holds.get(i);
            locks[i] = keys.of(hold.key())[0];
            ownersAndTtls[2 * i] = hold.owner();
            ownersAndTtls[2 * i + 1] = Long.toString(RedisLockStore.millis(hold.ttl()));
        }
        return new RefreshBatch(holds, locks, ownersAndTtls);
    }

    /** The ttl of each hold that is still held, empty for the others. */
    List<Optional<Duration>> validities(List<Boolean> held) {
        if (held.size() != holds.size()) {
            throw new IllegalStateException("the refresh script answered " + held.size()
                    + " flags for " + holds.size() + " locks");
        }
        List<Optional<Duration>> validities = new ArrayList<>(holds.size());
        for (int i = 0; i < holds.size(); i++) {
            validities.add(held.get(i) ? Optional.of(holds.get(i).ttl()) : Optional.empty());
        }
        return validities;
    }
}
