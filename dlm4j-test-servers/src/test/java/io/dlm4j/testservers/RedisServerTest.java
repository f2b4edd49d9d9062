package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The launcher itself, with a real redis-server. */
@Timeout(30)
class RedisServerTest {

    private static RedisServer.Options persistent() {
        return RedisServer.Options.builder().persistent(true).build();
    }

    @Test
    void startsOnAFreeLoopbackPortAndAnswersPing() {
        try (RedisServer redis = RedisServer.start()) {
            assertThat(redis.isRunning()).isTrue();
            assertThat(redis.host()).isEqualTo("127.0.0.1");
            assertThat(redis.port()).isPositive();
            assertThat(redis.hostAndPort()).isEqualTo("127.0.0.1:" + redis.port());
            assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.port());
            assertThat(redis.pid()).isPositive();
            assertThat(redis.directory()).isDirectory();
            assertThat(redis.directory().getFileName().toString()).startsWith("dlm4j-redis-");
            assertThat(redis.command("PING")).isEqualTo("+PONG");
            assertThat(redis.command("INFO", "server")).contains("process_id:" + redis.pid());
        }
    }

    @Test
    void twoServersRunSideBySide() {
        try (RedisServer a = RedisServer.start(); RedisServer b = RedisServer.start()) {
            assertThat(a.port()).isNotEqualTo(b.port());
            assertThat(a.directory()).isNotEqualTo(b.directory());
            a.command("SET", "k", "a");
            assertThat(b.command("GET", "k")).isNull();
        }
    }

    @Test
    void commandGivesTheFirstReplyLineOrTheBulkBody() {
        try (RedisServer redis = RedisServer.start()) {
            assertThat(redis.command("SET", "k", "v")).isEqualTo("+OK");
            assertThat(redis.command("GET", "k")).isEqualTo("v");
            assertThat(redis.command("SET", "unicode", "é ✓")).isEqualTo("+OK");
            assertThat(redis.command("GET", "unicode")).isEqualTo("é ✓");
            assertThat(redis.command("INCR", "n")).isEqualTo(":1");
            assertThat(redis.command("GET", "missing")).isNull();
            assertThat(redis.command("NOSUCHCOMMAND")).startsWith("-ERR");
            assertThat(redis.command("INFO", "commandstats")).contains("cmdstat_set:calls=2");
            assertThat(redis.command("FLUSHALL")).isEqualTo("+OK");
            assertThat(redis.command("GET", "k")).isNull();
        }
    }

    @Test
    void stopEndsTheProcessAndFreesThePort() {
        try (RedisServer redis = RedisServer.start()) {
            redis.stop();
            assertThat(redis.isRunning()).isFalse();
            assertThatThrownBy(() -> connect(redis.port())).isInstanceOf(ConnectException.class);
            assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(UncheckedIOException.class);
            redis.stop(); // again: nothing to do
        }
    }

    @Test
    void aPersistentServerKeepsItsDataAcrossRestart() {
        try (RedisServer redis = RedisServer.start(persistent())) {
            int port = redis.port();
            long pid = redis.pid();
            redis.command("SET", "k", "v");
            redis.restart();
            assertThat(redis.port()).isEqualTo(port);
            assertThat(redis.pid()).isNotEqualTo(pid);
            assertThat(redis.command("GET", "k")).isEqualTo("v");
        }
    }

    @Test
    void aNonPersistentServerComesBackEmpty() {
        try (RedisServer redis = RedisServer.start()) {
            redis.command("SET", "k", "v");
            redis.restart();
            assertThat(redis.command("PING")).isEqualTo("+PONG");
            assertThat(redis.command("GET", "k")).isNull();
        }
    }

    @Test
    void aKilledPersistentServerRestartsWithEveryAcknowledgedWrite() {
        try (RedisServer redis = RedisServer.start(persistent())) {
            for (int i = 0; i < 50; i++) {
                redis.command("SET", "k" + i, "v" + i);
            }
            redis.kill();
            assertThat(redis.isRunning()).isFalse();
            redis.restart();
            assertThat(redis.isRunning()).isTrue();
            assertThat(redis.command("DBSIZE")).isEqualTo(":50");
            assertThat(redis.command("GET", "k49")).isEqualTo("v49");
        }
    }

    @Test
    void aPausedServerDoesNotAnswerUntilResumed() throws IOException {
        try (RedisServer redis = RedisServer.start()) {
            redis.pause();
            assertThat(redis.isRunning()).isTrue();
            // The kernel still accepts the connection (backlog); the reply never comes.
            assertThatThrownBy(() -> redis.command(Duration.ofMillis(300), "PING"))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(SocketTimeoutException.class);
            redis.resume();
            assertThat(redis.command(Duration.ofSeconds(2), "PING")).isEqualTo("+PONG");
        }
    }

    @Test
    void aRequestSentWhilePausedIsAnsweredAfterResume() throws IOException {
        try (RedisServer redis = RedisServer.start(); Socket socket = connect(redis.port())) {
            redis.pause();
            socket.setSoTimeout(300);
            socket.getOutputStream().write(RedisServer.encode("PING"));
            assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            redis.resume();
            socket.setSoTimeout(2000);
            assertThat(RedisServer.readReply(socket.getInputStream())).isEqualTo("+PONG");
        }
    }

    @Test
    void closeStopsAPausedServerAndDeletesItsFolderOnce() {
        RedisServer redis = RedisServer.start(persistent());
        Path dir = redis.directory();
        redis.command("SET", "k", "v");
        redis.pause();
        redis.close();
        assertThat(redis.isRunning()).isFalse();
        assertThat(Files.exists(dir)).isFalse();
        redis.close(); // idempotent
        assertThatThrownBy(redis::restart).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void restartStopsARunningServerFirst() {
        try (RedisServer redis = RedisServer.start(persistent())) {
            long pid = redis.pid();
            redis.command("SET", "k", "v");
            redis.restart();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(redis.command("GET", "k")).isEqualTo("v");
        }
    }

    @Test
    void pausingAStoppedServerFails() {
        try (RedisServer redis = RedisServer.start()) {
            redis.stop();
            assertThatThrownBy(redis::pause).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not running");
            redis.resume(); // not paused: nothing to do
        }
    }

    @Test
    void extraArgumentsReachTheServer() {
        RedisServer.Options options = RedisServer.Options.builder().extraArgs("--maxmemory", "16mb").build();
        try (RedisServer redis = RedisServer.start(options)) {
            assertThat(redis.command("CONFIG", "GET", "maxmemory")).isEqualTo("*2");
            assertThat(redis.command("INFO", "memory")).contains("maxmemory:16777216");
        }
    }

    @Test
    void theRespReaderHandlesEachReplyType() throws IOException {
        assertThat(read("+OK\r\n")).isEqualTo("+OK");
        assertThat(read("-ERR wrong\r\n")).isEqualTo("-ERR wrong");
        assertThat(read(":42\r\n")).isEqualTo(":42");
        assertThat(read("$5\r\nhe\r\no\r\n")).isEqualTo("he\r\no");
        assertThat(read("$0\r\n\r\n")).isEmpty();
        assertThat(read("$-1\r\n")).isNull();
        assertThat(read("*2\r\n$1\r\na\r\n")).isEqualTo("*2");
        assertThatThrownBy(() -> read("$5\r\nab")).isInstanceOf(IOException.class);
        assertThat(new String(RedisServer.encode("SET", "k", "é"), StandardCharsets.UTF_8))
                .isEqualTo("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
    }

    private static String read(String reply) throws IOException {
        return RedisServer.readReply(new ByteArrayInputStream(reply.getBytes(StandardCharsets.UTF_8)));
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }
}
