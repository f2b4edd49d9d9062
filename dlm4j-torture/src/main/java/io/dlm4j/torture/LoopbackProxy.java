package io.dlm4j.torture;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of one server: clients connect to {@link #port()}, and each of
 * their connections is forwarded, both directions, to the server over a connection of its own.
 * The nemesis controls what gets through: {@link #pass()}, {@link #hold()} (buffer, then let it all
 * through in order), {@link #delay} of one direction, {@link #cut()}; for every connection, or for
 * some of them through {@link #links()}.
 *
 * <p>Each direction of a connection has one reader, which stamps every chunk it reads with the time
 * it may be delivered, and one writer, which delivers the chunks in the order they were read. One
 * writer per direction is what keeps the bytes of a connection in order whatever the controls do.
 * Traffic already read keeps the delay it was read under: a reply delayed by 2.5 s arrives 2.5 s
 * late even if the delay is lifted meanwhile, as it would on a slow link.
 */
final class LoopbackProxy implements AutoCloseable {

    /** A direction of traffic, seen from the client. */
    enum Direction {
        /** Client to server. */
        REQUESTS,
        /** Server to client. */
        REPLIES
    }

    private static final int CHUNK_BYTES = 16 * 1024;
    /** Chunks buffered per direction before the reader stops reading: TCP then pushes back on the sender. */
    private static final int QUEUED_CHUNKS = 4096;
    private static final int CONNECT_TIMEOUT_MILLIS = 2000;
    private static final long CLOSE_WAIT_MILLIS = 5000;

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final String name;
    private final Thread acceptor;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final Map<Direction, AtomicLong> forwarded = new EnumMap<>(Direction.class);
    private final Map<Direction, AtomicLong> late = new EnumMap<>(Direction.class);

    // The controls, guarded by "this"; the writers wait on "this" for them to change. These are the
    // proxy-wide ones, which connections opened while they are in place start with; each connection
    // has its own copy, so that a fault can hit some connections only (see links()).
    private final Controls defaults = new Controls();
    private boolean cut;
    private boolean closed;

    private LoopbackProxy(InetSocketAddress target, ServerSocket listener) {
        this.target = target;
        this.listener = listener;
        this.name = "proxy-" + listener.getLocalPort() + "-to-" + target.getPort();
        for (Direction d : Direction.values()) {
            forwarded.put(d, new AtomicLong());
            late.put(d, new AtomicLong());
        }
        this.acceptor = newThread(name + "-accept", this::acceptLoop);
    }

    /**
     * Starts a proxy to {@code targetPort} on loopback; it listens on a free loopback port of its own.
     *
     * @throws IllegalArgumentException if the port is not 1 to 65535
     */
    static LoopbackProxy start(int targetPort) {
        if (targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("targetPort must be 1 to 65535, was " + targetPort);
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try {
            ServerSocket listener = new ServerSocket(0, 50, loopback);
            LoopbackProxy proxy = new LoopbackProxy(new InetSocketAddress(loopback, targetPort), listener);
            proxy.acceptor.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on loopback for a proxy to port " + targetPort, e);
        }
    }

    /** The port clients connect to. */
    int port() {
        return listener.getLocalPort();
    }

    /** {@code 127.0.0.1:port} of the proxy, for a backend URI. */
    String hostAndPort() {
        return listener.getInetAddress().getHostAddress() + ":" + port();
    }

    /** The server's port. */
    int targetPort() {
        return target.getPort();
    }

    /** Lets everything through: ends a hold (held traffic goes on, in order), a delay and a cut. */
    synchronized void pass() {
        defaults.pass();
        for (Connection c : connections) {
            c.controls.pass();
        }
        cut = false;
        notifyAll();
    }

    /** Buffers the traffic of both directions until {@link #pass()}; connections stay open. */
    synchronized void hold() {
        defaults.hold();
        for (Connection c : connections) {
            c.controls.hold();
        }
        notifyAll();
    }

    /**
     * Delivers what is read in one direction from now on {@code delay} after it was read; the other
     * direction is not touched.
     *
     * @throws IllegalArgumentException if the delay is negative
     */
    synchronized void delay(Direction direction, Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, was " + delay);
        }
        defaults.delay(direction, delay);
        for (Connection c : connections) {
            c.controls.delay(direction, delay);
        }
        notifyAll();
    }

    /**
     * The connections open now, each with controls of its own: a fault on some of them only makes
     * some clients late while others go on, which reorders what lands at the server across clients.
     * {@link #pass()} ends these too.
     */
    List<Link> links() {
        return List.copyOf(connections);
    }

    /**
     * Closes every connection now, dropping what is buffered; connections that come in until
     * {@link #pass()} are closed at once.
     */
    void cut() {
        synchronized (this) {
            cut = true;
            notifyAll();
        }
        for (Connection c : connections) {
            c.close();
        }
    }

    /** Connections open now. */
    int openConnections() {
        return connections.size();
    }

    /** Bytes delivered so far in a direction. */
    long forwardedBytes(Direction direction) {
        return forwarded.get(direction).get();
    }

    /** Bytes read in a direction while it was held or delayed, so far: what a fault made late. */
    long lateBytes(Direction direction) {
        return late.get(direction).get();
    }

    /** Bytes read in a direction and not delivered yet (held or delayed). */
    long queuedBytes(Direction direction) {
        return connections.stream().mapToLong(c -> c.queuedBytes(direction)).sum();
    }

    /** The proxy's threads that are still alive (the acceptor and two per direction and connection). */
    List<Thread> liveThreads() {
        return threads.stream().filter(Thread::isAlive).toList();
    }

    /** Stops listening, closes every connection and waits for the proxy's threads to end. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            notifyAll();
        }
        try {
            listener.close();
        } catch (IOException e) {
            System.err.println(name + ": closing the listener failed: " + e);
        }
        for (Connection c : connections) {
            c.close();
        }
        // a connection still opening may start its threads after the loop above: join until none is left
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        List<Thread> alive = liveThreads();
        while (!alive.isEmpty() && System.nanoTime() - end < 0) {
            for (Connection c : connections) {
                c.close();
            }
            try {
                alive.get(0).join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            alive = liveThreads();
        }
        if (!alive.isEmpty()) {
            System.err.println(name + ": " + alive.size() + " threads did not end within " + CLOSE_WAIT_MILLIS
                    + " ms, e.g. " + alive.get(0).getName());
        }
    }

    @Override
    public String toString() {
        return "LoopbackProxy[" + hostAndPort() + " -> " + target.getPort() + "]";
    }

    private void acceptLoop() {
        while (true) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                synchronized (this) {
                    if (!closed) {
                        System.err.println(name + ": accept failed, the proxy stops listening: " + e);
                    }
                }
                return;
            }
            Connection c;
            synchronized (this) {
                // checked and added under the lock that cut() and close() set their flag under, so
                // that each either sees this connection or is seen by it
                c = cut || closed ? null : new Connection(client, connectionCount.incrementAndGet());
                if (c != null) {
                    connections.add(c);
                }
            }
            if (c == null) {
                reset(client);
                continue;
            }
            newThread(c.label + "-open", c::open).start();
        }
    }

    /** Closes a socket with a reset rather than a FIN: a cut link, not a server that hung up. */
    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException e) {
            // already closed: nothing to reset
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing is all we wanted; there is nothing left to tell the peer
        }
    }

    private Thread newThread(String threadName, Runnable body) {
        Thread t = new Thread(body, threadName);
        t.setDaemon(true); // a proxy must never keep the harness's JVM alive
        threads.removeIf(x -> !x.isAlive() && x.getState() == Thread.State.TERMINATED);
        threads.add(t);
        return t;
    }

    /**
     * Waits until a chunk of {@code direction} may be delivered: not held, and its time has come.
     *
     * @return false if the connection or the proxy was closed meanwhile
     */
    private synchronized boolean awaitDelivery(Direction direction, long dueNanos, Connection c)
            throws InterruptedException {
        while (!closed && !c.isClosed()) {
            if (c.controls.held.contains(direction)) {
                wait();
                continue;
            }
            long left = dueNanos - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return false;
    }

    /** When a chunk of {@code bytes} read now in {@code direction} may be delivered; counts it if it is late. */
    private synchronized long stamp(Connection c, Direction direction, int bytes) {
        long delay = c.controls.delayNanos.get(direction);
        if (delay > 0 || c.controls.held.contains(direction)) {
            late.get(direction).addAndGet(bytes);
        }
        return System.nanoTime() + delay;
    }

    /** Wakes the writers so that they see a closed connection. */
    private synchronized void wakeWriters() {
        notifyAll();
    }

    /** One connection through the proxy, with controls of its own. */
    interface Link {

        /** Buffers both directions of this connection until it or the proxy passes. */
        void hold();

        /** Delivers what this connection reads in {@code direction} from now on {@code delay} late. */
        void delay(Direction direction, Duration delay);

        /** Lets this connection's traffic through. */
        void pass();

        /** Bytes this connection has read so far, both directions: busy connections carry calls. */
        long bytesRead();
    }

    /** What a connection's traffic is subject to; guarded by the proxy's monitor. */
    private static final class Controls {

        private final Set<Direction> held = EnumSet.noneOf(Direction.class);
        private final Map<Direction, Long> delayNanos = new EnumMap<>(Direction.class);

        Controls() {
            pass();
        }

        Controls(Controls from) {
            held.addAll(from.held);
            delayNanos.putAll(from.delayNanos);
        }

        void pass() {
            held.clear();
            for (Direction d : Direction.values()) {
                delayNanos.put(d, 0L);
            }
        }

        void hold() {
            held.addAll(EnumSet.allOf(Direction.class));
        }

        void delay(Direction direction, Duration delay) {
            if (delay.isNegative()) {
                throw new IllegalArgumentException("delay must not be negative, was " + delay);
            }
            delayNanos.put(direction, delay.toNanos());
        }
    }

    /** A chunk of bytes read in one direction; an empty one marks the end of the stream. */
    private record Chunk(byte[] bytes, long dueNanos) {
        boolean isEnd() {
            return bytes.length == 0;
        }
    }

    /** One client connection and its connection to the server. */
    private final class Connection implements Link {

        private final Socket client;
        /** Guarded by the proxy's monitor, like the proxy-wide controls it starts from. */
        private final Controls controls;
        private final String label;
        private volatile Socket server;
        private final AtomicBoolean closed = new AtomicBoolean();
        private final AtomicInteger directionsDone = new AtomicInteger();
        private final AtomicLong bytesRead = new AtomicLong();
        private final Map<Direction, AtomicLong> queuedHere = new EnumMap<>(Direction.class);

        /** Called with the proxy's monitor held: the connection starts under the proxy-wide controls. */
        Connection(Socket client, int number) {
            this.client = client;
            this.label = name + "-c" + number;
            this.controls = new Controls(defaults);
            for (Direction d : Direction.values()) {
                queuedHere.put(d, new AtomicLong());
            }
        }

        boolean isClosed() {
            return closed.get();
        }

        @Override
        public void hold() {
            synchronized (LoopbackProxy.this) {
                controls.hold();
                LoopbackProxy.this.notifyAll();
            }
        }

        @Override
        public void delay(Direction direction, Duration delay) {
            synchronized (LoopbackProxy.this) {
                controls.delay(direction, delay);
                LoopbackProxy.this.notifyAll();
            }
        }

        @Override
        public void pass() {
            synchronized (LoopbackProxy.this) {
                controls.pass();
                LoopbackProxy.this.notifyAll();
            }
        }

        @Override
        public long bytesRead() {
            return bytesRead.get();
        }

        @Override
        public String toString() {
            return label;
        }

        long queuedBytes(Direction direction) {
            return queuedHere.get(direction).get();
        }

        /** Connects to the server, then starts both directions. */
        void open() {
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                s.connect(target, CONNECT_TIMEOUT_MILLIS);
            } catch (IOException e) {
                // the server is down (killed, restarting): the client sees its connection end, as it would
                closeQuietly(s);
                close();
                return;
            }
            server = s;
            if (isClosed()) { // cut or closed while we connected; close() may not have seen the socket
                closeQuietly(s);
                return;
            }
            pump(Direction.REQUESTS, client, s);
            pump(Direction.REPLIES, s, client);
        }

        private void pump(Direction direction, Socket from, Socket to) {
            BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>(QUEUED_CHUNKS);
            String prefix = label + "-" + direction.name().toLowerCase(Locale.ROOT);
            newThread(prefix + "-write", () -> write(direction, queue, to)).start();
            newThread(prefix + "-read", () -> read(direction, from, queue)).start();
        }

        private void read(Direction direction, Socket from, BlockingQueue<Chunk> queue) {
            boolean ended = false;
            try {
                InputStream in = from.getInputStream();
                byte[] buffer = new byte[CHUNK_BYTES];
                while (true) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        queue.put(new Chunk(new byte[0], stamp(this, direction, 0)));
                        ended = true;
                        return;
                    }
                    queuedHere.get(direction).addAndGet(n);
                    bytesRead.addAndGet(n);
                    queue.put(new Chunk(Arrays.copyOf(buffer, n), stamp(this, direction, n)));
                }
            } catch (IOException e) {
                close(); // reset by a peer, or closed by a cut: the whole connection ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
            } finally {
                if (!ended) {
                    // a writer waiting for its next chunk takes this one, finds the connection closed and ends;
                    // if the queue is full the writer is not waiting, so the offer may fail
                    queue.offer(new Chunk(new byte[0], 0));
                }
            }
        }

        private void write(Direction direction, BlockingQueue<Chunk> queue, Socket to) {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk chunk = queue.take();
                    if (!awaitDelivery(direction, chunk.dueNanos(), this)) {
                        return;
                    }
                    if (chunk.isEnd()) {
                        to.shutdownOutput(); // pass the half-close on: the other direction may still carry data
                        if (directionsDone.incrementAndGet() == 2) {
                            close();
                        }
                        return;
                    }
                    out.write(chunk.bytes());
                    out.flush();
                    queuedHere.get(direction).addAndGet(-chunk.bytes().length);
                    forwarded.get(direction).addAndGet(chunk.bytes().length);
                }
            } catch (IOException e) {
                close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
            }
        }

        /** Ends both sides: the readers fail on their closed sockets, the writers are woken and see it. */
        void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            closeQuietly(client);
            Socket s = server;
            if (s != null) {
                closeQuietly(s);
            }
            connections.remove(this);
            wakeWriters();
        }
    }
}
