package io.dlm4j.testkit;

import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The fixture annotations: shared servers are one per JVM, own servers one per class and stopped after it. */
@WithRedis
class TestServersExtensionTest {

    private static RedisServer shared;
    private static RedisServer sharedSeenByA;
    private static RedisServer ownOfB;

    @BeforeAll
    static void theSharedServerExistsBeforeTheNestedClassesRun(RedisServer server) {
        shared = server;
    }

    @Nested
    @WithRedis(own = true)
    class OwnOfTheSameCount {
        @Test
        void isNotTheSharedServer(RedisServer server) {
            // a store also answers with its parents' values: the keys of own and shared servers differ
            assertThat(server).isNotSameAs(shared);
            assertThat(server.isRunning()).isTrue();
        }
    }

    @Nested
    @WithRedis
    @WithEmbeddedMongo
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class SharedA {
        private RedisServer beforeAll;

        @BeforeAll
        void remember(RedisServer server) {
            beforeAll = server;
        }

        @Test
        void theSameServerInEveryCallbackOfTheClass(RedisServer server, EmbeddedMongoServer mongo) {
            assertThat(server).isSameAs(beforeAll).isSameAs(shared);
            assertThat(server.isRunning()).isTrue();
            assertThat(server.command("PING")).isEqualTo("+PONG");
            assertThat(mongo.hostAndPort()).startsWith("127.0.0.1:");
            sharedSeenByA = server;
        }
    }

    @Nested
    @WithRedis(count = 2, own = true)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OwnB {
        @Test
        void ownServersAreNotTheSharedOne(List<RedisServer> servers, RedisServer first) {
            assertThat(servers).hasSize(2).doesNotHaveDuplicates();
            assertThat(servers.get(0)).isSameAs(first);
            assertThat(servers).allSatisfy(s -> assertThat(s.isRunning()).isTrue());
            if (sharedSeenByA != null) {
                assertThat(servers).doesNotContain(sharedSeenByA);
            }
            ownOfB = first;
        }
    }

    @Nested
    @WithRedis
    class SharedC {
        @Test
        void aSecondClassGetsTheSameSharedServer(RedisServer server) {
            if (sharedSeenByA != null) {
                assertThat(server).isSameAs(sharedSeenByA);
            }
            assertThat(server.isRunning()).isTrue();
        }
    }

    @AfterAll
    static void ownServersStopAfterTheirClass() {
        if (ownOfB != null) {
            assertThat(ownOfB.isRunning()).as("the own server of a class that ended").isFalse();
        }
    }
}
