package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.testkit.InputPropertySuite;
import io.dlm4j.testkit.WithMariaDb;
import io.dlm4j.testservers.MariaDbServer;
import org.junit.jupiter.api.BeforeAll;

/** The input properties on MariaDB, through {@code Dlms.fromUri} and MySQL Connector/J. */
@WithMariaDb
class MariaDbMysqlDriverInputPropertyTest extends InputPropertySuite {

    private static String url;

    @BeforeAll
    static void startServer(MariaDbServer shared) {
        url = MariaDbTestDatabase.url(shared, MariaDbTestDatabase.Driver.MYSQL, shared.user(), shared.password());
    }

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return Dlms.fromUri(url, options);
    }
}
