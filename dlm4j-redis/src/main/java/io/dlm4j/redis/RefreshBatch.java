package io.dlm4j.redis;

import io.dlm4j.spi.HoldToRefresh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The arguments of one many-locks refresh script, and the validities its answers mean. */
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

    /** How long each hold now lasts by the server (the ms the script answered), empty for those not held. */
    List<Optional<Duration>> validities(List<Long> millisLeft) {
        if (millisLeft.size() != holds.size()) {
            throw new IllegalStateException("the refresh script answered " + millisLeft.size()
                    + " values for " + holds.size() + " locks");
        }
        List<Optional<Duration>> validities = new ArrayList<>(holds.size());
        for (long left : millisLeft) {
            validities.add(left > 0 ? Optional.of(Duration.ofMillis(left)) : Optional.empty());
        }
        return validities;
    }
}
