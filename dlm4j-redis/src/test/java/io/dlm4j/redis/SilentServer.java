package io.dlm4j.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A loopback server that accepts connections and never answers: a real socket on which a client's
 * connect handshake never completes, for as long as a test needs. Unlike a stopped redis-server,
 * it also tells the test when a connection arrived.
 */
final class SilentServer implements AutoCloseable {

    private final ServerSocket socket;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Semaphore arrivals = new Semaphore(0);
    private final Thread acceptor;

    SilentServer() {
        try {
            socket = new ServerSocket();
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a loopback server socket", e);
        }
        acceptor = new Thread(this::acceptForever, "silent-server-" + socket.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String uri() {
        return "redis://127.0.0.1:" + socket.getLocalPort();
    }

    String hostAndPort() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    /** Waits until one more connection has been accepted; false if none came within {@code seconds}. */
    boolean awaitConnection(long seconds) throws InterruptedException {
        return arrivals.tryAcquire(seconds, TimeUnit.SECONDS);
    }

    private void acceptForever() {
        while (!socket.isClosed()) {
            try {
                accepted.add(socket.accept()); // read nothing, answer nothing
                arrivals.release();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket connection : accepted) {
            connection.close();
        }
    }
}
