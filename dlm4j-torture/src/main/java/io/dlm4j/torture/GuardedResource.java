package io.dlm4j.torture;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The resource the workers' lock guards: a small TCP server on loopback with, per key, a
 * <em>fenced</em> register that turns away any op whose token is below the highest it has accepted
 * for that key, and an <em>unfenced</em> register that takes everything. It records every op with
 * its arrival time.
 *
 * <p>Line protocol, one connection per worker:
 * <pre>
 * READ key process token                     -> OK fencedAccepted(1|0) fencedValue unfencedValue
 * WRITE key process token fencedValue|- unfencedValue -> OK fencedAccepted(1|0) 1
 * </pre>
 * Reads raise the fence too. If only writes did: A reads 0 with token 5 and pauses, its lease ends,
 * B (token 6) reads 0, A wakes and writes 1 with token 5 (accepted: nothing above 5 was written yet),
 * B writes 1 with token 6 (accepted): A's update is lost with no write turned away. With reads
 * raising the fence, A's write is turned away because B read with 6.
 */
final class GuardedResource implements AutoCloseable {

    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private final Map<String, long[]> registers = new HashMap<>(); // key -> {fencedValue, highestToken, unfencedValue}
    private final Map<String, String> openSections = new HashMap<>(); // process -> key, READ seen, WRITE not yet
    private final List<ResourceOp> log = new ArrayList<>();
    private volatile boolean closed;

    private GuardedResource(ServerSocket server) {
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "guarded-resource-acceptor");
        acceptor.setDaemon(true);
    }

    static GuardedResource start() {
        try {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            GuardedResource r = new GuardedResource(s);
            r.acceptor.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the guarded resource on loopback", e);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    /** The processes inside a critical section now (they read and have not written yet). */
    Set<String> processesInCriticalSection() {
        synchronized (lock) {
            return new TreeSet<>(openSections.keySet());
        }
    }

    List<ResourceOp> log() {
        synchronized (lock) {
            return List.copyOf(log);
        }
    }

    void writeLog(Path file) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (ResourceOp op : log()) {
                w.write(op.toJson());
                w.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the resource log " + file, e);
        }
    }

    /** Applies one request line and returns the reply line. */
    String handle(String line) {
        String[] p = line.trim().split(" ");
        try {
            if (p[0].equals(ResourceOp.READ) && p.length == 4) {
                return read(p[1], p[2], Long.parseLong(p[3]));
            }
            if (p[0].equals(ResourceOp.WRITE) && p.length == 6) {
                Long fenced = p[4].equals("-") ? null : Long.parseLong(p[4]);
                return write(p[1], p[2], Long.parseLong(p[3]), fenced, Long.parseLong(p[5]));
            }
        } catch (NumberFormatException e) {
            return "ERR bad number in: " + line;
        }
        return "ERR unknown request: " + line;
    }

    private String read(String key, String process, long token) {
        // System.nanoTime() is CLOCK_MONOTONIC on Linux: one clock for every JVM on this machine
        long arrival = System.nanoTime();
        synchronized (lock) {
            long[] r = registers.computeIfAbsent(key, k -> new long[3]);
            boolean accepted = token >= r[1];
            if (accepted) {
                r[1] = token;
            }
            log.add(new ResourceOp(ResourceOp.READ, key, process, token, arrival, accepted, r[0], null, r[2], null));
            openSections.put(process, key);
            return "OK " + (accepted ? 1 : 0) + " " + (accepted ? r[0] : -1) + " " + r[2];
        }
    }

    private String write(String key, String process, long token, Long fencedValue, long unfencedValue) {
        long arrival = System.nanoTime();
        synchronized (lock) {
            long[] r = registers.computeIfAbsent(key, k -> new long[3]);
            boolean accepted = fencedValue != null && token >= r[1];
            log.add(new ResourceOp(ResourceOp.WRITE, key, process, token, arrival, accepted, r[0], fencedValue,
                    r[2], unfencedValue));
            if (accepted) {
                r[1] = token;
                r[0] = fencedValue;
            }
            r[2] = unfencedValue;
            openSections.remove(process);
            return "OK " + (accepted ? 1 : 0) + " 1";
        }
    }

    /** Forgets that a process is inside a critical section (it was killed). */
    void forget(String process) {
        synchronized (lock) {
            openSections.remove(process);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                connections.add(s);
                Thread t = new Thread(() -> serve(s), "guarded-resource-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("guarded resource: accept failed: " + e);
                }
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s;
             BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             BufferedWriter out = new BufferedWriter(new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(handle(line));
                out.write('\n');
                out.flush();
            }
        } catch (SocketException e) {
            // the worker was killed or the resource closed: its connection ends here
        } catch (IOException e) {
            if (!closed) {
                System.err.println("guarded resource: connection failed: " + e);
            }
        } finally {
            connections.remove(s);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            System.err.println("guarded resource: close failed: " + e);
        }
        for (Socket s : connections) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
