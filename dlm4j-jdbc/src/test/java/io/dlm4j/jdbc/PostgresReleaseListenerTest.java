package io.dlm4j.jdbc;

import io.dlm4j.spi.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The LISTEN connection's life against a scripted DataSource whose connections answer what a test
 * puts in their queue: notifications, a broken connection, or nothing. Connects are handed out by
 * the test, one permit each, so a test decides when the listener connects and can close it in the
 * middle of a connect.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PostgresReleaseListenerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private final ScriptedSource source = new ScriptedSource();
    private final PostgresReleaseListener listener = new PostgresReleaseListener(source,
            new PostgresDialect(new Table("dlm4j_locks")), "PostgreSQL (scripted)", TIMEOUT);

    @AfterEach
    void close() {
        source.connects.release(100);
        listener.close();
    }

    @Test
    void aNotificationWakesTheWaitersOfItsKeyOnly() throws Exception {
        CountDownLatch woken = new CountDownLatch(1);
        AtomicInteger others = new AtomicInteger();
        AtomicInteger wakeUps = new AtomicInteger();
        listener.subscribe("k\0", () -> {
            wakeUps.incrementAndGet();
            woken.countDown();
        });
        listener.subscribe("other", others::incrementAndGet);
        source.connects.release();
        ScriptedConnection connection = source.awaitConnection();
        await().until(() -> connection.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
        await().until(() -> others.get() == 1); // the wake-up of every waiter once it listens
        int before = wakeUps.get();
        connection.notify("k\\0"); // the key as stored: NUL escaped

        await().until(() -> wakeUps.get() == before + 1);
        Thread.sleep(50); // nothing else may arrive: there is nothing else in the script
        assertThat(others).as("waiters of another key").hasValue(1);
    }

    @Test
    void aWaiterThatSubscribedBeforeTheListenIsWokenOnceItListens() {
        AtomicInteger wakeUps = new AtomicInteger();
        listener.subscribe("k", wakeUps::incrementAndGet);
        assertThat(wakeUps).as("before the connection exists").hasValue(0);
        source.connects.release();
        ScriptedConnection connection = source.awaitConnection();
        await().until(() -> connection.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
        await().untilAsserted(() -> assertThat(wakeUps.get()).isGreaterThanOrEqualTo(1));
    }

    @Test
    void aBrokenConnectionWakesEveryWaiterAndIsReplaced() {
        AtomicInteger wakeUps = new AtomicInteger();
        listener.subscribe("k", wakeUps::incrementAndGet);
        source.connects.release();
        ScriptedConnection first = source.awaitConnection();
        await().until(() -> wakeUps.get() == 1);

        first.breakIt();
        await("woken for what the broken connection may have missed").until(() -> wakeUps.get() >= 2);
        assertThat(first.closed).as("the broken connection is given back").isTrue();
        source.connects.release();
        ScriptedConnection second = source.awaitConnection();
        await().until(() -> second.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
        int before = wakeUps.get();
        second.notify("k");
        await("a notification on the new connection").until(() -> wakeUps.get() > before);
    }

    @Test
    void aSilentConnectionIsAskedAfterAWhileAndReplacedWhenItDoesNotAnswer() {
        AtomicInteger wakeUps = new AtomicInteger();
        listener.subscribe("k", wakeUps::incrementAndGet);
        source.connects.release();
        ScriptedConnection halfOpen = source.awaitConnection();
        halfOpen.failHeartbeat = true; // what a read on a half-open connection ends in: the network timeout
        await().until(() -> halfOpen.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
        int before = wakeUps.get();

        await("the heartbeat finds it gone").atMost(Duration.ofMillis(PostgresReleaseListener.HEARTBEAT_MILLIS + 5_000))
                .until(() -> halfOpen.closed);
        assertThat(halfOpen.executed).contains("SELECT 1");
        await("waiters are woken, as they may have missed releases").until(() -> wakeUps.get() > before);
        source.connects.release();
        ScriptedConnection next = source.awaitConnection();
        await().until(() -> next.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
    }

    @Test
    void closeDuringAConnectEndsTheListenerAndGivesTheLateConnectionBack() throws Exception {
        listener.subscribe("k", () -> { });
        await().until(() -> source.waitingForConnect.get() == 1);
        long start = System.nanoTime();
        listener.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close while connecting").isLessThan(Duration.ofSeconds(5));

        source.connects.release(); // the connect the listener waited for completes after the close
        ScriptedConnection late = source.awaitConnection();
        await("the late connection is given back").until(() -> late.closed);
        Thread.sleep(300); // long enough for a wrongly living listener to connect again
        assertThat(source.handedOut).as("connections handed out").hasValue(1);
    }

    @Test
    void closeUnlistensAndGivesTheConnectionBack() {
        listener.subscribe("k", () -> { });
        source.connects.release();
        ScriptedConnection connection = source.awaitConnection();
        await().until(() -> connection.executed.contains("LISTEN \"dlm4j:dlm4j_locks\""));
        listener.close();
        assertThat(connection.executed).last().isEqualTo("UNLISTEN *");
        assertThat(connection.closed).isTrue();
    }

    @Test
    void aSubscriptionAfterCloseStartsNothing() throws Exception {
        listener.close();
        Subscription subscription = listener.subscribe("k", () -> { });
        subscription.close();
        source.connects.release();
        Thread.sleep(300); // long enough for a wrongly started listener to connect
        assertThat(source.handedOut).hasValue(0);
    }

    /** Connections on permits; each connection answers from its queue. */
    private static final class ScriptedSource implements DataSource {
        final Semaphore connects = new Semaphore(0);
        final AtomicInteger waitingForConnect = new AtomicInteger();
        final AtomicInteger handedOut = new AtomicInteger();
        final BlockingQueue<ScriptedConnection> made = new LinkedBlockingQueue<>();

        ScriptedConnection awaitConnection() {
            try {
                ScriptedConnection connection = made.poll(10, TimeUnit.SECONDS);
                assertThat(connection).as("a connection was made").isNotNull();
                return connection;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public Connection getConnection() {
            waitingForConnect.incrementAndGet();
            connects.acquireUninterruptibly(); // a connect does not end on an interrupt either
            waitingForConnect.decrementAndGet();
            handedOut.incrementAndGet();
            ScriptedConnection connection = new ScriptedConnection();
            made.add(connection);
            return connection.proxy();
        }

        @Override
        public Connection getConnection(String username, String password) {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }

    /** What getNotifications answers next: payloads, or a failure. */
    private static final class ScriptedConnection {
        final List<String> executed = new CopyOnWriteArrayList<>();
        final BlockingQueue<Object> script = new LinkedBlockingQueue<>();
        volatile boolean closed;
        volatile boolean failHeartbeat;

        void notify(String payload) {
            script.add(payload);
        }

        void breakIt() {
            script.add(new SQLException("connection lost", "08006"));
        }

        Connection proxy() {
            PGConnection pg = (PGConnection) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {PGConnection.class}, (p, method, args) -> {
                        if (method.getName().equals("getNotifications") && args != null && args.length == 1) {
                            Object next = script.poll((Integer) args[0], TimeUnit.MILLISECONDS);
                            if (next instanceof SQLException failure) {
                                throw failure;
                            }
                            return next == null ? null : new PGNotification[] {notification((String) next)};
                        }
                        throw new UnsupportedOperationException(method.getName());
                    });
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (p, method, args) -> switch (method.getName()) {
                        case "unwrap" -> pg;
                        case "createStatement" -> statement();
                        case "close" -> {
                            closed = true;
                            yield null;
                        }
                        case "isClosed" -> closed;
                        case "setAutoCommit", "setNetworkTimeout" -> null;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }

        private Statement statement() {
            return (Statement) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Statement.class},
                    (p, method, args) -> switch (method.getName()) {
                        case "execute" -> {
                            if (closed) {
                                throw new SQLException("closed", "08003");
                            }
                            executed.add((String) args[0]);
                            if (failHeartbeat && "SELECT 1".equals(args[0])) {
                                throw new SQLException("Read timed out", "08006");
                            }
                            yield false;
                        }
                        case "close" -> null;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }

        private static PGNotification notification(String payload) {
            return new PGNotification() {
                @Override
                public String getName() {
                    return "dlm4j:dlm4j_locks";
                }

                @Override
                public int getPID() {
                    return 1;
                }

                @Override
                public String getParameter() {
                    return payload;
                }
            };
        }
    }
}
