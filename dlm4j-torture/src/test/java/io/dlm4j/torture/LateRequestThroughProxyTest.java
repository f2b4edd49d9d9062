package io.dlm4j.torture;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testservers.RedisServer;
import io.dlm4j.torture.LoopbackProxy.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What the hold-traffic nemesis does, on a real Redis and a real Dlm: a request held in the proxy
 * past the operation timeout makes its call give up, and lands at the server afterwards. The
 * server is read directly (not through the proxy); its fence counter ({@code dlm4j:{key}:fence},
 * docs/REDIS.md) counts the acquisitions that landed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LateRequestThroughProxyTest {

    private static final Duration OPERATION_TIMEOUT = Duration.ofSeconds(1);

    @Test
    void anAcquireHeldPastTheOperationTimeoutGivesUpAndLandsAfterwards() {
        try (RedisServer redis = RedisServer.start();
             LoopbackProxy proxy = LoopbackProxy.start(redis.port());
             Dlm dlm = Dlms.fromUri("redis://" + proxy.hostAndPort(), DlmOptions.builder()
                     .defaultOwner("late-caller").autoRefresh(false).operationTimeout(OPERATION_TIMEOUT).build())) {
            Mutex mutex = dlm.newMutex("late");
            // connects and loads the scripts before the hold; a cold first call may be slower than the timeout
            await().atMost(Duration.ofSeconds(30)).ignoreException(LockBackendException.class).until(() -> {
                Optional<Lease> first = mutex.tryLock();
                first.ifPresent(Lease::close);
                return first.isPresent();
            });
            String fence = "dlm4j:{late}:fence";
            String landedBefore = redis.command("GET", fence);

            proxy.hold();
            assertThatThrownBy(mutex::tryLock).isInstanceOf(LockBackendException.class);
            assertThat(proxy.queuedBytes(Direction.REQUESTS)).as("the acquire waits in the proxy").isPositive();
            assertThat(redis.command("GET", fence)).as("nothing landed while held").isEqualTo(landedBefore);

            proxy.pass();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !java.util.Objects.equals(redis.command("GET", fence), landedBefore));
        }
    }

    /**
     * Replies held back longer than the ttl, within the operation timeout: the grant arrives when
     * its time is over, and its lease says so (isValid() false) rather than claiming time it has
     * not.
     */
    @Test
    void aGrantWhoseReplyArrivesAfterItsTtlGivesALeaseInvalidFromTheStart() {
        Duration ttl = Duration.ofSeconds(1);
        try (RedisServer redis = RedisServer.start();
             LoopbackProxy proxy = LoopbackProxy.start(redis.port());
             Dlm dlm = Dlms.fromUri("redis://" + proxy.hostAndPort(), DlmOptions.builder()
                     .defaultOwner("slow-replies").autoRefresh(false).operationTimeout(Duration.ofSeconds(10)).build())) {
            Mutex warmUp = dlm.newMutex("warm-up", ttl);
            await().atMost(Duration.ofSeconds(30)).ignoreException(LockBackendException.class).until(() -> {
                Optional<Lease> first = warmUp.tryLock();
                first.ifPresent(Lease::close);
                return first.isPresent();
            });
            proxy.delay(Direction.REPLIES, ttl.plusMillis(500));
            long before = System.nanoTime();
            Optional<Lease> late = dlm.newMutex("late-grant", ttl).tryLock();
            Duration took = Duration.ofNanos(System.nanoTime() - before);
            proxy.pass();

            assertThat(took).as("the reply was late").isGreaterThan(ttl);
            assertThat(late).as("the grant").hasValueSatisfying(lease ->
                    assertThat(lease.isValid()).as("a lease that arrived 1.5 s into a 1 s ttl").isFalse());
            assertThat(redis.command("GET", "dlm4j:{late-grant}:fence")).as("it had been granted").isEqualTo("1");
        }
    }
}
