package io.dlm4j.jdbc;

import io.dlm4j.testkit.WithPostgres;
import io.dlm4j.testservers.PostgresServer;

/** The JDBC store's promises on PostgreSQL. */
@WithPostgres
class PostgresStoreTest extends JdbcStoreContract {

    private final PostgresServer server;

    PostgresStoreTest(PostgresServer shared) {
        this.server = shared;
    }

    @Override
    TestDatabase database() {
        return new PostgresTestDatabase(server);
    }

    @Override
    String userWithPassword() {
        return server.user();
    }
}
