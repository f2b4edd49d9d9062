package io.dlm4j.jdbc;

import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;


/** The JDBC store's promises on MariaDB, through MySQL's driver. */
@WithMariaDb
class MariaDbMysqlDriverStoreTest extends JdbcStoreContract {

    private final MariaDbServer server;

    MariaDbMysqlDriverStoreTest(MariaDbServer shared) {
        this.server = shared;
    }

    @Override
    TestDatabase database() {
        return new MariaDbTestDatabase(server, MariaDbTestDatabase.Driver.MYSQL);
    }

    @Override
    String userWithPassword() {
        return server.user();
    }

}
