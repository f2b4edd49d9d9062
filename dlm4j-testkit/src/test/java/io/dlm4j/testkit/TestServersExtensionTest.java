package io.dlm4j.testkit;

import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
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
@WithPostgres
@WithMariaDb
class TestServersExtensionTest {

    private static RedisServer shared;
    private static RedisServer sharedSeenByA;
    private static RedisServer ownOfB;
    private static PostgresServer sharedPostgres;
    private static MariaDbServer sharedMariaDb;
    private static PostgresServer ownPostgres;
    private static MariaDbServer ownMariaDb;

    @BeforeAll
    static void theSharedServerExistsBeforeTheNestedClassesRun(RedisServer server, PostgresServer pg, MariaDbServer db) {
        shared = server;
        sharedPostgres = pg;
        sharedMariaDb = db;
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

    @Nested
    @WithPostgres
    @WithMariaDb
    class SharedDatabasesA {
        @Test
        void areRunningAndAnswer(PostgresServer pg, MariaDbServer db) {
            assertThat(pg.sql("SELECT 1")).isEqualTo("1\n");
            assertThat(db.sql("SELECT 1")).isEqualTo("1\n");
            check(pg, db);
        }
    }

    @Nested
    @WithPostgres
    @WithMariaDb
    class SharedDatabasesB {
        @Test
        void aSecondClassGetsTheSameServers(PostgresServer pg, MariaDbServer db) {
            check(pg, db);
        }
    }

    private static void check(PostgresServer pg, MariaDbServer db) {
        assertThat(pg).isSameAs(sharedPostgres);
        assertThat(db).isSameAs(sharedMariaDb);
        assertThat(pg.isRunning()).isTrue();
        assertThat(db.isRunning()).isTrue();
    }

    @Nested
    @WithPostgres(own = true)
    @WithMariaDb(own = true)
    class OwnDatabases {
        @Test
        void areNotTheSharedOnes(PostgresServer pg, MariaDbServer db) {
            assertThat(pg).isNotSameAs(sharedPostgres);
            assertThat(db).isNotSameAs(sharedMariaDb);
            assertThat(pg.isRunning()).isTrue();
            assertThat(db.isRunning()).isTrue();
            ownPostgres = pg;
            ownMariaDb = db;
        }
    }

    @AfterAll
    static void ownServersStopAfterTheirClass() {
        if (ownOfB != null) {
            assertThat(ownOfB.isRunning()).as("the own server of a class that ended").isFalse();
        }
        if (ownPostgres != null) {
            assertThat(ownPostgres.isRunning()).as("the own postgres of a class that ended").isFalse();
            assertThat(ownPostgres.directory()).doesNotExist();
        }
        if (ownMariaDb != null) {
            assertThat(ownMariaDb.isRunning()).as("the own mariadb of a class that ended").isFalse();
            assertThat(ownMariaDb.directory()).doesNotExist();
        }
    }
}
