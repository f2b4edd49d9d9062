package io.dlm4j.torture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A worker's wall clock (the one its Dlm gets through {@code DlmOptions.clock}): the system clock
 * plus an offset that the nemesis jumps by writing milliseconds into a control file. A daemon thread
 * reads the file every 20 ms; a file that is missing or half written leaves the offset as it was.
 */
final class OffsetClock extends Clock {

    private static final long POLL_MILLIS = 20;

    private volatile long offsetMillis;

    private OffsetClock() {
    }

    static OffsetClock following(Path controlFile) {
        OffsetClock clock = new OffsetClock();
        Thread poller = new Thread(() -> {
            while (true) {
                clock.poll(controlFile);
                try {
                    Thread.sleep(POLL_MILLIS); // a poll interval, not a wait for a state
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "offset-clock");
        poller.setDaemon(true);
        clock.poll(controlFile);
        poller.start();
        return clock;
    }

    /** Writes a new offset for the worker that follows {@code controlFile}; atomic by rename. */
    static void jump(Path controlFile, long offsetMillis) {
        try {
            Path tmp = controlFile.resolveSibling(controlFile.getFileName() + ".tmp");
            Files.writeString(tmp, Long.toString(offsetMillis), StandardCharsets.UTF_8);
            Files.move(tmp, controlFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write clock control file " + controlFile, e);
        }
    }

    private void poll(Path controlFile) {
        try {
            String text = Files.readString(controlFile, StandardCharsets.UTF_8).trim();
            if (!text.isEmpty()) {
                offsetMillis = Long.parseLong(text);
            }
        } catch (NoSuchFileException e) {
            // no jump asked for yet
        } catch (IOException | NumberFormatException e) {
            System.err.println("offset clock: cannot read " + controlFile + ": " + e);
        }
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the worker's clock stays in UTC");
    }

    @Override
    public Instant instant() {
        return Instant.now().plusMillis(offsetMillis);
    }
}
