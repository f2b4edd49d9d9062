package io.dlm4j.torture;

import io.dlm4j.torture.LoopbackProxy.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The proxy on real loopback sockets. The test plays both the client and the server (a plain
 * server socket whose accepted connections it is handed), so every step is driven by the test;
 * "nothing got through yet" is read from the proxy's own counters, never from a wait.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoopbackProxyTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private ServerSocket server;
    private final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
    private Thread acceptor;
    private LoopbackProxy proxy;

    @BeforeEach
    void startServerAndProxy() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            try {
                while (true) {
                    accepted.add(server.accept());
                }
            } catch (IOException e) {
                // the test closed the server socket
            }
        }, "test-server-accept");
        acceptor.start();
        proxy = LoopbackProxy.start(server.getLocalPort());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        server.close();
        acceptor.join(10_000);
        for (Socket s : accepted) {
            s.close();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        s.setSoTimeout((int) PATIENCE.toMillis()); // a read that should not block fails the test instead
        return s;
    }

    private Socket serverSide() throws InterruptedException {
        Socket s = accepted.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(s).as("the proxy connected to the server").isNotNull();
        return s;
    }

    private static byte[] readExactly(Socket s, int n) throws IOException {
        byte[] out = new byte[n];
        new DataInputStream(s.getInputStream()).readFully(out);
        return out;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
    }

    private static String receive(Socket s, int bytes) throws IOException {
        return new String(readExactly(s, bytes), StandardCharsets.UTF_8);
    }

    /** Whether the peer ended the connection: end of stream or a reset. */
    private static boolean ended(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void forwardsBothDirectionsByteForByte() throws Exception {
        byte[] up = new byte[1 << 20];
        byte[] down = new byte[1 << 20];
        new Random(1).nextBytes(up);
        new Random(2).nextBytes(down);
        try (Socket client = connect(); Socket s = serverSide()) {
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> write(client, up));
            CompletableFuture<Void> download = CompletableFuture.runAsync(() -> write(s, down));
            assertThat(readExactly(s, up.length)).isEqualTo(up);
            assertThat(readExactly(client, down.length)).isEqualTo(down);
            upload.get(20, TimeUnit.SECONDS);
            download.get(20, TimeUnit.SECONDS);
            // a writer counts a chunk just after writing it, so the reader may see the bytes first
            await().atMost(PATIENCE).until(() -> proxy.forwardedBytes(Direction.REQUESTS) == up.length
                    && proxy.forwardedBytes(Direction.REPLIES) == down.length);
        }
    }

    @Test
    void holdBuffersBothDirectionsAndPassLetsThemThroughInOrder() throws Exception {
        try (Socket client = connect(); Socket s = serverSide()) {
            send(client, "warm\n");
            assertThat(receive(s, 5)).isEqualTo("warm\n");

            proxy.hold();
            send(client, "one\n");
            send(client, "two\n");
            send(s, "reply\n");
            // a writer counts a chunk as forwarded just after writing it, so the reader may see the bytes first
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 8
                    && proxy.queuedBytes(Direction.REPLIES) == 6 && proxy.forwardedBytes(Direction.REQUESTS) == 5);
            assertThat(proxy.forwardedBytes(Direction.REPLIES)).isZero();
            assertThat(proxy.lateBytes(Direction.REQUESTS)).isEqualTo(8);
            assertThat(proxy.lateBytes(Direction.REPLIES)).isEqualTo(6);

            proxy.pass();
            assertThat(receive(s, 8)).isEqualTo("one\ntwo\n");
            assertThat(receive(client, 6)).isEqualTo("reply\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 0);
        }
    }

    @Test
    void delayedRepliesWaitWhileRequestsGoThrough() throws Exception {
        try (Socket client = connect(); Socket s = serverSide()) {
            proxy.delay(Direction.REPLIES, Duration.ofHours(1));
            send(client, "request\n");
            assertThat(receive(s, 8)).isEqualTo("request\n");
            send(s, "reply\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REPLIES) == 6);
            send(client, "again\n");
            assertThat(receive(s, 6)).isEqualTo("again\n");
            assertThat(proxy.forwardedBytes(Direction.REPLIES)).isZero();
            assertThat(proxy.lateBytes(Direction.REPLIES)).isEqualTo(6);
            assertThat(proxy.lateBytes(Direction.REQUESTS)).isZero();
        } // close() must end a writer that waits an hour for a chunk's time
    }

    @Test
    void delayedRequestsWaitWhileRepliesGoThrough() throws Exception {
        try (Socket client = connect(); Socket s = serverSide()) {
            proxy.delay(Direction.REQUESTS, Duration.ofHours(1));
            send(client, "late\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 5);
            send(s, "news\n");
            assertThat(receive(client, 5)).isEqualTo("news\n");
            assertThat(proxy.forwardedBytes(Direction.REQUESTS)).isZero();
        }
    }

    @Test
    void aDelayedChunkArrivesNoSoonerThanItsDelayAndKeepsItWhenTheDelayIsLifted() throws Exception {
        Duration delay = Duration.ofMillis(300);
        try (Socket client = connect(); Socket s = serverSide()) {
            proxy.delay(Direction.REPLIES, delay);
            long sent = System.nanoTime();
            send(s, "slow\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REPLIES) == 5);
            proxy.pass(); // what was read under the delay keeps it
            assertThat(receive(client, 5)).isEqualTo("slow\n");
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(delay);
        }
    }

    @Test
    void keepsTheOrderOfAStreamWhileTheControlsChangeUnderIt() throws Exception {
        int block = 5000;
        try (Socket client = connect(); Socket s = serverSide()) {
            DataOutputStream out = new DataOutputStream(client.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            int next = 0;
            proxy.hold();
            next = writeNumbers(out, next, block);
            proxy.delay(Direction.REQUESTS, Duration.ofMillis(5)); // still held, and now delayed too
            next = writeNumbers(out, next, block);
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 8L * block);
            proxy.pass();
            proxy.delay(Direction.REQUESTS, Duration.ofMillis(50));
            next = writeNumbers(out, next, block);
            proxy.hold(); // the delayed block is still in the proxy, probably: it must stay ahead
            next = writeNumbers(out, next, block);
            proxy.pass();
            next = writeNumbers(out, next, block);
            for (int i = 0; i < next; i++) {
                assertThat(in.readInt()).isEqualTo(i);
            }
            long sent = 4L * next;
            await().atMost(PATIENCE).until(() -> proxy.forwardedBytes(Direction.REQUESTS) == sent);
        }
    }

    private static int writeNumbers(DataOutputStream out, int from, int count) throws IOException {
        for (int i = from; i < from + count; i++) {
            out.writeInt(i);
        }
        out.flush();
        return from + count;
    }

    @Test
    void aHeldLinkWaitsWhileAnotherConnectionGoesOnAndTheProxyPassEndsIt() throws Exception {
        try (Socket first = connect(); Socket firstAtServer = serverSide()) {
            await().atMost(PATIENCE).until(() -> proxy.links().size() == 1);
            LoopbackProxy.Link firstLink = proxy.links().get(0);
            try (Socket second = connect(); Socket secondAtServer = serverSide()) {
                firstLink.hold();
                send(first, "late\n");
                await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 5);
                send(second, "on time\n");
                assertThat(receive(secondAtServer, 8)).isEqualTo("on time\n");
                assertThat(proxy.lateBytes(Direction.REQUESTS)).isEqualTo(5);
                proxy.pass();
                assertThat(receive(firstAtServer, 5)).isEqualTo("late\n");
            }
        }
    }

    @Test
    void aConnectionOpenedDuringAProxyWideHoldIsHeldToo() throws Exception {
        proxy.hold();
        try (Socket client = connect(); Socket s = serverSide()) {
            send(client, "new\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 4);
            assertThat(proxy.forwardedBytes(Direction.REQUESTS)).isZero();
            proxy.pass();
            assertThat(receive(s, 4)).isEqualTo("new\n");
        }
    }

    @Test
    void aHalfCloseIsPassedOnAndTheOtherDirectionStillCarries() throws Exception {
        try (Socket client = connect(); Socket s = serverSide()) {
            send(client, "last\n");
            client.shutdownOutput();
            assertThat(receive(s, 5)).isEqualTo("last\n");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            send(s, "bye\n");
            s.close();
            assertThat(receive(client, 4)).isEqualTo("bye\n");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
        await().atMost(PATIENCE).until(() -> proxy.openConnections() == 0);
    }

    @Test
    void cutEndsConnectionsAndNewOnesUntilPass() throws Exception {
        try (Socket client = connect(); Socket s = serverSide()) {
            send(client, "x");
            assertThat(receive(s, 1)).isEqualTo("x");
            proxy.cut();
            assertThat(ended(client)).isTrue();
            assertThat(ended(s)).isTrue();
        }
        try (Socket refused = connect()) {
            assertThat(ended(refused)).isTrue();
        }
        assertThat(accepted).as("a connection made while cut never reaches the server").isEmpty();
        proxy.pass();
        try (Socket client = connect(); Socket s = serverSide()) {
            send(client, "back\n");
            assertThat(receive(s, 5)).isEqualTo("back\n");
        }
    }

    @Test
    void aServerThatIsDownEndsTheClientsConnection() throws Exception {
        int freePort;
        try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            freePort = gone.getLocalPort();
        }
        try (LoopbackProxy toNothing = LoopbackProxy.start(freePort);
             Socket client = new Socket(InetAddress.getLoopbackAddress(), toNothing.port())) {
            client.setSoTimeout((int) PATIENCE.toMillis());
            assertThat(ended(client)).isTrue();
        }
    }

    @Test
    void closeEndsEveryConnectionAndEveryThreadAndStopsListening() throws Exception {
        Socket client = connect();
        Socket s = serverSide();
        try (client; s) {
            proxy.hold();
            send(client, "held\n");
            await().atMost(PATIENCE).until(() -> proxy.queuedBytes(Direction.REQUESTS) == 5);
            proxy.close();
            assertThat(proxy.liveThreads()).isEmpty();
            assertThat(ended(client)).isTrue();
            InputStream fromProxy = s.getInputStream();
            assertThat(fromProxy.read()).as("the held bytes are dropped, not delivered").isEqualTo(-1);
            assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), proxy.port()).close())
                    .isInstanceOf(ConnectException.class);
        }
    }

    @Test
    void refusesAPortOutOfRange() {
        assertThatThrownBy(() -> LoopbackProxy.start(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("targetPort");
        assertThatThrownBy(() -> proxy.delay(Direction.REPLIES, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
    }

    private static void write(Socket s, byte[] bytes) {
        try {
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
