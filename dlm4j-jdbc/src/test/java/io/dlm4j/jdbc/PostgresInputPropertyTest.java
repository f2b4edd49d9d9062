package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.WithPostgres;
import io.dlm4j.testservers.PostgresServer;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on PostgreSQL, through {@code Dlms.fromUri}: NUL and every other character in keys and owners. */
@WithPostgres
class PostgresInputPropertyTest extends InputPropertySuite {

    private static String url;

    @BeforeAll
    static void startServer(PostgresServer shared) {
        url = PostgresTestDatabase.url(shared, shared.user(), shared.password());
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return Dlms.fromUri(url, options);
    }
}
