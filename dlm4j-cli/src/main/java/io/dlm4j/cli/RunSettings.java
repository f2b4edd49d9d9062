package io.dlm4j.cli;

import io.dlm4j.MutexOptions;

import java.time.Duration;
import java.util.List;

/**
 * What {@code dlm4j run} was asked to do, checked: its options less the backend's.
 *
 * @param lock       the key, owner and ttl, with auto-refresh
 * @param noWait     give up at once if the lock is held (--no-wait, or --wait 0s)
 * @param maxWait    how long to wait for the lock; null for as long as it takes
 * @param quiet      no line on stderr while waiting
 * @param killOnLoss stop the program if the lock is lost while it runs
 * @param grace      how long the program has between SIGTERM and SIGKILL
 * @param command    the program and its arguments
 */
record RunSettings(MutexOptions lock, boolean noWait, Duration maxWait, boolean quiet, boolean killOnLoss,
                   Duration grace, List<String> command) {

    RunSettings {
        command = List.copyOf(command);
    }

    String key() {
        return lock.key();
    }

    Duration ttl() {
        return lock.ttl();
    }
}
