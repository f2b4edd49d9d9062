package io.dlm4j.testservers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP server that is not the server a client expects: one that {@linkplain #silent()
 * accepts connections and never answers} (a hung process, a black-holing proxy), or one that
 * {@linkplain #garbage() answers every request with bytes of no protocol} (the wrong port, an HTTP
 * server, a load balancer's error page). Plus a {@linkplain #closedPort() port nothing listens on}.
 * For tests that a client gives up within its deadline instead of hanging.
 */
public final class BadServer implements AutoCloseable {

    /** What no client protocol here expects: not RESP, not a BSON message length, not HTTP/2. */
    private static final byte[] GARBAGE_HEAD = ("HTTP/1.1 418 I'm not the server you are looking for\r\n"
            + "Content-Type: text/plain\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket socket;
    private final boolean answersGarbage;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Random random = new Random();

    private BadServer(boolean answersGarbage) {
        this.answersGarbage = answersGarbage;
        try {
            this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a loopback port", e);
        }
        Thread acceptor = new Thread(this::acceptConnections, "bad-server-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Accepts connections and reads what it is sent, but never answers. */
    public static BadServer silent() {
        return new BadServer(false);
    }

    /** Accepts connections and answers at once, and after everything it reads, with garbage bytes. */
    public static BadServer garbage() {
        return new BadServer(true);
    }

    /** A loopback port that nothing listens on (free when this returns; nothing here takes it). */
    public static int closedPort() {
        return closedPorts(1)[0];
    }

    /**
     * {@code count} distinct loopback ports that nothing listens on. Distinct because all are
     * probed at once: one probe after the other may be given the same port again (a Redlock URI
     * then named one master twice).
     */
    public static int[] closedPorts(int count) {
        return ChildProcesses.FreePorts.pick(count);
    }

    public String host() {
        return socket.getInetAddress().getHostAddress();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** {@code host:port}. */
    public String hostAndPort() {
        return host() + ":" + port();
    }

    /** How many connections it has accepted: whether a client got as far as talking to it. */
    public int acceptedConnections() {
        return accepted.get();
    }

    private void acceptConnections() {
        while (!socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                accepted.incrementAndGet();
                connections.add(connection);
                Thread handler = new Thread(() -> serve(connection), "bad-server-" + port() + "-connection");
                handler.setDaemon(true);
                handler.start();
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private void serve(Socket connection) {
        try (connection; InputStream in = connection.getInputStream(); OutputStream out = connection.getOutputStream()) {
            byte[] buffer = new byte[8192];
            if (answersGarbage) {
                answer(out);
            }
            while (in.read(buffer) >= 0) {
                if (answersGarbage) {
                    answer(out);
                }
            }
        } catch (IOException e) {
            // the client hung up, or the server closed: either ends this connection
        } finally {
            connections.remove(connection);
        }
    }

    private void answer(OutputStream out) throws IOException {
        byte[] noise = new byte[256];
        synchronized (random) {
            random.nextBytes(noise);
        }
        out.write(GARBAGE_HEAD);
        out.write(noise);
        out.flush();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing a listening socket does not fail in a way a test could act on
        }
        for (Socket connection : connections) {
            try {
                connection.close();
            } catch (IOException e) {
                // as above
            }
        }
    }

    @Override
    public String toString() {
        return (answersGarbage ? "garbage" : "silent") + " server at " + hostAndPort();
    }
}
