package io.dlm4j.jdbc;

import io.dlm4j.testservers.PostgresServer;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** A {@link PostgresServer} as the JDBC tests reach it. */
final class PostgresTestDatabase implements TestDatabase {

    private final PostgresServer server;

    PostgresTestDatabase(PostgresServer server) {
        this.server = server;
    }

    static String url(PostgresServer server, String user, String password) {
        return server.jdbcUrl() + "?user=" + user + "&password=" + URLEncoder.encode(password, StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "PostgreSQL";
    }

    @Override
    public String url() {
        return url(server, server.user(), server.password());
    }

    @Override
    public String urlAs(String user, String password) {
        return url(server, user, password);
    }

    @Override
    public void createReadOnlyUser(String user, String password) {
        server.createUser(user, password, true);
    }
}
