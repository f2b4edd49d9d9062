package io.dlm4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Round trips as Redis sees them: a {@code MONITOR} feed, which marks the commands that a Lua script
 * ran ({@code [0 lua]}) apart from those a client sent. {@code INFO commandstats} counts both alike, so
 * it cannot tell one EVALSHA that does four things from four round trips.
 *
 * <p>{@link #clientCommands()} first sends a marker (an {@code ECHO} on its own connection) and waits
 * until the feed shows it: the server writes the feed in execution order, so every command before
 * the call is counted.
 */
final class RedisMonitor implements AutoCloseable {

    private static final Pattern LINE = Pattern.compile("^\\+\\d+\\.\\d+ \\[\\d+ ([^\\]]+)\\] \"([^\"]+)\"(?: \"([^\"]*)\")?");
    private static final String MARKER = "dlm4j-bench-marker-";

    private final Socket feed;
    private final Socket control;
    private final Map<String, LongAdder> client = new ConcurrentHashMap<>();
    private final AtomicLong markerSeen = new AtomicLong(-1);
    private long markers;
    private final Thread reader;

    RedisMonitor(String hostPort) {
        String[] hp = hostPort.split(":");
        InetSocketAddress address = new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
        try {
            feed = new Socket();
            feed.connect(address, 5000);
            control = new Socket();
            control.connect(address, 5000);
            control.setSoTimeout(10_000);
            send(feed.getOutputStream(), "MONITOR");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open MONITOR on Redis at " + hostPort, e);
        }
        reader = new Thread(this::read, "redis-monitor-" + hostPort);
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(feed.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                Matcher m = LINE.matcher(line);
                if (!m.find()) {
                    continue;
                }
                String command = m.group(2).toLowerCase();
                if (command.equals("echo") && m.group(3) != null && m.group(3).startsWith(MARKER)) {
                    markerSeen.set(Long.parseLong(m.group(3).substring(MARKER.length())));
                    synchronized (markerSeen) {
                        markerSeen.notifyAll();
                    }
                } else if (!m.group(1).equals("lua")) {
                    client.computeIfAbsent(command, k -> new LongAdder()).increment();
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    /** Commands sent by clients so far, by name (script-internal ones not counted). */
    synchronized Map<String, Long> clientCommands() {
        long n = ++markers;
        try {
            send(control.getOutputStream(), "ECHO", MARKER + n);
            control.getInputStream().read(new byte[256]);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            synchronized (markerSeen) {
                while (markerSeen.get() < n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException("the MONITOR feed did not show marker " + n + " within 10 s");
                    }
                    markerSeen.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send a marker to Redis", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the MONITOR feed", e);
        }
        Map<String, Long> m = new TreeMap<>();
        client.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    private static void send(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        try {
            feed.close();
            control.close();
        } catch (IOException e) {
            // nothing left to do with them
        }
    }
}
