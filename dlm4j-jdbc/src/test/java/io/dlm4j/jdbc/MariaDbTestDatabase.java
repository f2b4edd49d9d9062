package io.dlm4j.jdbc;

import io.dlm4j.testservers.MariaDbServer;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** A {@link MariaDbServer} as the JDBC tests reach it, through MariaDB's driver or MySQL's. */
final class MariaDbTestDatabase implements TestDatabase {

    /** Which driver the URLs pick. */
    enum Driver { MARIADB, MYSQL }

    private final MariaDbServer server;
    private final Driver driver;

    MariaDbTestDatabase(MariaDbServer server, Driver driver) {
        this.server = server;
        this.driver = driver;
    }

    static String url(MariaDbServer server, Driver driver, String user, String password) {
        String base = driver == Driver.MARIADB ? server.jdbcUrl() : server.mysqlJdbcUrl("test");
        return base + "?user=" + user + "&password=" + URLEncoder.encode(password, StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "MariaDB";
    }

    @Override
    public String nameInUrl() {
        return driver == Driver.MYSQL ? "MySQL" : name();
    }

    @Override
    public String url() {
        return url(server, driver, server.user(), server.password());
    }

    @Override
    public String urlAs(String user, String password) {
        return url(server, driver, user, password);
    }

    @Override
    public void createReadOnlyUser(String user, String password) {
        server.createUser(user, password, true);
    }
}
