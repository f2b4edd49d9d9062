package io.dlm4j.cli;

import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The commands on a real PostgreSQL server, through the bundled pgjdbc: waiters woken by LISTEN/NOTIFY. */
class PostgresIT extends BackendIT {

    private static PostgresServer postgres;

    @BeforeAll
    static void startPostgres() {
        postgres = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Override
    String uri() {
        return postgres.jdbcUrl() + "?user=" + postgres.user() + "&password=" + postgres.password();
    }

    @Override
    String shownUri() {
        return postgres.jdbcUrl() + "?user=" + postgres.user() + "&password=***";
    }
}
