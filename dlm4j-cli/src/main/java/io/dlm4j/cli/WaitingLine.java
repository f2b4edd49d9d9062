package io.dlm4j.cli;

import io.dlm4j.LockException;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The line on stderr while {@code dlm4j run} waits: who holds the lock and for how long yet, asked
 * of the backend about every second. On a terminal the line is rewritten in place; otherwise (a log)
 * a line is printed when the holder changes.
 */
final class WaitingLine {

    private static final long PERIOD_MILLIS = 1000;

    private final Mutex mutex;
    private final PrintStream out;
    private final boolean terminal;
    private final Thread thread;
    private volatile boolean stopped;
    private String lastHolder;
    private boolean drawn;

    private WaitingLine(Mutex mutex, PrintStream out, boolean terminal) {
        this.mutex = mutex;
        this.out = out;
        this.terminal = terminal;
        this.thread = new Thread(this::loop, "dlm4j-waiting-line");
        this.thread.setDaemon(true);
    }

    static WaitingLine start(Mutex mutex, PrintStream out) {
        WaitingLine line = new WaitingLine(mutex, out, stderrIsTerminal());
        line.thread.start();
        return line;
    }

    /** Stops the updates and, on a terminal, clears the line. */
    void stop() {
        synchronized (this) {
            stopped = true;
            notifyAll();
            if (terminal && drawn) {
                out.print("\r\033[K");
                out.flush();
            }
        }
    }

    private void loop() {
        while (!stopped) {
            show();
            synchronized (this) {
                long until = System.nanoTime() + PERIOD_MILLIS * 1_000_000;
                long left;
                while (!stopped && (left = until - System.nanoTime()) > 0) {
                    try {
                        wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    private void show() {
        String holderId;
        String text;
        try {
            Optional<LockInfo> holder = mutex.holder();
            holderId = holder.map(h -> h.owner() + "/" + h.fencingToken()).orElse("");
            text = "waiting for '" + mutex.key() + "': "
                    + holder.map(RunCommand::describe).orElse("just released, trying to take it");
        } catch (LockException e) {
            holderId = "?";
            text = "waiting for '" + mutex.key() + "': cannot ask the backend (" + Text.oneLine(e.getMessage()) + ")";
        }
        synchronized (this) {
            if (stopped) {
                return;
            }
            if (terminal) {
                out.print("\r" + text + "\033[K");
                out.flush();
                drawn = true;
            } else if (!holderId.equals(lastHolder)) {
                out.println("dlm4j: " + text);
                out.flush();
            }
            lastHolder = holderId;
        }
    }

    /** Whether stderr is a terminal: /proc/self/fd/2 on Linux, else System.console(). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (Exception e) {
            return System.console() != null;
        }
    }
}
