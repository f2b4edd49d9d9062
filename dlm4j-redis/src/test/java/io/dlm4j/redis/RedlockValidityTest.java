package io.dlm4j.redis;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithRedis;
import io.dlm4j.testservers.RedisServer;
import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a Redlock lease promises: its expiry estimate is the validity time (ttl - elapsed - drift),
 * not the raw ttl; and a holder is one that a majority of masters agree on.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@WithRedis(count = 3, own = true)
class RedlockValidityTest {

    private static List<RedisServer> servers;
    private static List<RedisClient> clients;

    private final List<Dlm> dlms = new ArrayList<>();

    @BeforeAll
    static void startServers(List<RedisServer> shared) {
        servers = shared;
        clients = servers.stream().map(s -> RedisClient.create(s.uri())).toList();
    }

    @AfterAll
    static void stopServers() {
        clients.forEach(RedisClient::shutdown);
    }

    @AfterEach
    void closeDlms() {
        servers.forEach(RedisServer::resume);
        dlms.forEach(Dlm::close);
    }

    /** A clock that stands still unless moved, so that the engine's "before" instant is known exactly. */
    private static final class ManualClock extends Clock {
        private volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }
    }

    private Dlm dlm(String owner, Clock clock) {
        Dlm dlm = RedlockDlm.create(clients, DlmOptions.builder().defaultOwner(owner).clock(clock)
                .operationTimeout(Duration.ofSeconds(2)).build());
        dlms.add(dlm);
        dlm.ping();
        return dlm;
    }

    private Dlm dlm(String owner) {
        return dlm(owner, Clock.systemUTC());
    }

    private static String key(String name) {
        return "redlock-validity-" + name + "-" + UUID.randomUUID();
    }

    private static String stored(String key) {
        return RedisKeys.DEFAULT.lock(key);
    }

    private static Duration drift(Duration ttl) {
        return Duration.ofMillis(ttl.toMillis() / 100 + 2);
    }

    @Test
    void expiresAtIsTheValidityTimeNotTheRawTtl() {
        ManualClock clock = new ManualClock();
        Duration ttl = Duration.ofSeconds(10);
        Mutex mutex = dlm("alice", clock).newMutex(key("acquire"), ttl);

        Instant before = clock.instant();
        long start = System.nanoTime();
        Lease lease = mutex.tryLock().orElseThrow();
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(lease.expiresAt())
                .as("by at least the drift before the raw ttl")
                .isBeforeOrEqualTo(before.plus(ttl).minus(drift(ttl)))
                .as("less than ttl - drift - elapsed after the request")
                .isAfterOrEqualTo(before.plus(ttl).minus(drift(ttl)).minus(elapsed));
        assertThat(lease.isValid()).isTrue();

        clock.advance(Duration.ofSeconds(3));
        Instant beforeRefresh = clock.instant();
        start = System.nanoTime();
        assertThat(lease.refresh()).isTrue();
        elapsed = Duration.ofNanos(System.nanoTime() - start);
        assertThat(lease.expiresAt())
                .as("after a refresh: by at least the drift before the raw ttl")
                .isBeforeOrEqualTo(beforeRefresh.plus(ttl).minus(drift(ttl)))
                .as("after a refresh: less than ttl - drift - elapsed after the request")
                .isAfterOrEqualTo(beforeRefresh.plus(ttl).minus(drift(ttl)).minus(elapsed));
        lease.close();
    }

    @Test
    void theTimeSpentWaitingForAHungMasterIsTakenOffTheValidity() {
        ManualClock clock = new ManualClock();
        Duration ttl = Duration.ofSeconds(3); // per-node timeout 300 ms
        Mutex mutex = dlm("alice", clock).newMutex(key("hung"), ttl);
        servers.get(2).pause();
        Instant before = clock.instant();
        Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("2 of 3 masters answer"));
        assertThat(lease.expiresAt()).isBeforeOrEqualTo(before.plus(ttl).minus(drift(ttl)).minusMillis(300));
        assertThat(lease.isValid()).isTrue();

        Instant beforeRefresh = clock.instant();
        assertThat(lease.refresh()).isTrue();
        assertThat(lease.expiresAt()).isBeforeOrEqualTo(beforeRefresh.plus(ttl).minus(drift(ttl)).minusMillis(300));
        servers.get(2).resume();
        lease.close();
    }

    @Test
    void aGrantThatComesAfterTheValidityTimeIsNoLock() {
        Dlm dlm = dlm("alice");
        // drift = 100 ms / 100 + 2 ms = 3 ms, and the hung master costs the full per-node timeout
        // of 100 ms: nothing of the ttl is left
        String key = key("too-late");
        Mutex mutex = dlm.newMutex(key, Duration.ofMillis(100));
        assertThat(mutex.tryLock()).as("control: all masters answering").isPresent();
        mutex.unlock();
        // a ttl of 2 ms is all drift
        assertThat(dlm.newMutex(key("all-drift"), Duration.ofMillis(2)).tryLock()).isEmpty();
        servers.get(2).pause();
        assertThat(mutex.tryLock()).as("2 of 3 masters granted, after the validity time").isEmpty();
    }

    @Test
    void holderIsOnlyWhatAMajorityOfMastersAgreesOn() {
        String key = key("holder");
        Dlm alice = dlm("alice");
        Dlm carol = dlm("carol");
        Lease lease = alice.newMutex(key, Duration.ofSeconds(10)).tryLock().orElseThrow();
        AtomicBoolean lost = new AtomicBoolean();
        lease.onLost(() -> lost.set(true));
        Mutex observer = carol.newMutex(key);

        servers.get(0).command("SET", stored(key), "5:intruder", "PX", "10000");
        assertThat(observer.holder()).as("intruder on 1 of 3 masters").hasValueSatisfying(h -> {
            assertThat(h.owner()).isEqualTo("alice");
            assertThat(h.fencingToken()).isEqualTo(lease.fencingToken());
        });
        assertThat(lease.refresh()).as("alice still holds 2 of 3").isTrue();

        servers.get(2).command("DEL", stored(key));
        assertThat(observer.holder()).as("alice, intruder and nobody on one master each").isEmpty();

        servers.get(2).command("SET", stored(key), "5:intruder", "PX", "10000");
        LockInfo holder = observer.holder().orElseThrow(() -> new AssertionError("intruder on 2 of 3 masters"));
        assertThat(holder.owner()).isEqualTo("intruder");
        assertThat(holder.fencingToken()).isEqualTo(5);
        assertThat(holder.expiresAt()).isBefore(Instant.now().plusSeconds(11));

        assertThat(observer.tryLock()).as("carol").isEmpty();
        assertThat(lease.refresh()).as("a majority says alice no longer holds it").isFalse();
        assertThat(lost).isTrue();
        assertThat(lease.isValid()).isFalse();
    }
}
