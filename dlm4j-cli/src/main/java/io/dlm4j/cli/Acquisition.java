package io.dlm4j.cli;

import io.dlm4j.Lease;
import io.dlm4j.LockException;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Takes {@code dlm4j run}'s lock as its options say: at once, within --wait, or as long as it
 * takes, with the waiting line on stderr meanwhile; not acquired is exit 75 with who holds it.
 */
final class Acquisition {

    private final RunSettings settings;
    private final PrintStream err;

    Acquisition(RunSettings settings, PrintStream err) {
        this.settings = settings;
        this.err = err;
    }

    /**
     * @return the lease
     * @throws CliException         (exit 75) if the lock was not acquired at once with --no-wait or within --wait
     * @throws InterruptedException if the wait was interrupted (by the shutdown hook on a signal)
     */
    Lease acquire(Mutex mutex) throws InterruptedException {
        Optional<Lease> first = mutex.tryLock();
        if (first.isPresent()) {
            return first.get();
        }
        if (settings.noWait()) {
            throw notAcquired(mutex, "(--no-wait)");
        }
        Duration maxWait = settings.maxWait();
        long started = System.nanoTime();
        WaitingLine line = settings.quiet() ? null : WaitingLine.start(mutex, err);
        Lease acquired;
        try {
            acquired = maxWait == null ? mutex.lock() : mutex.lock(maxWait);
        } catch (LockTimeoutException e) {
            if (line != null) {
                line.stop(); // stops its own questions to the backend before ours for the reason
                line = null;
            }
            throw notAcquired(mutex, "within " + Text.duration(maxWait));
        } finally {
            if (line != null) {
                line.stop();
            }
        }
        if (!settings.quiet()) {
            err.printf("dlm4j: acquired '%s' as %s (token %d) after waiting %s%n", settings.key(), acquired.owner(),
                    acquired.fencingToken(), Text.remaining(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
        }
        return acquired;
    }

    private CliException notAcquired(Mutex mutex, String how) {
        String holder;
        try {
            holder = mutex.holder().map(RunCommand::describe).orElse("it was just released; try again");
        } catch (LockException e) {
            holder = "its holder is unknown (" + Text.oneLine(e.getMessage()) + ")";
        }
        return new CliException(ExitCodes.NOT_ACQUIRED, "'" + settings.key() + "' not acquired " + how + ": " + holder);
    }
}
