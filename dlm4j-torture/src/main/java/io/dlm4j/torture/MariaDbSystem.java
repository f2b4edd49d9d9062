package io.dlm4j.torture;

import io.dlm4j.testservers.MariaDbServer;

/** One MariaDB server (the launcher's: innodb-flush-log-at-trx-commit=2, so a kill -9 keeps every commit). */
final class MariaDbSystem extends JdbcSystem {

    private final MariaDbServer server;

    MariaDbSystem() {
        this(MariaDbServer.start());
    }

    private MariaDbSystem(MariaDbServer server) {
        super(server.port(), server::close);
        this.server = server;
    }

    @Override
    public String name() {
        return "mariadb";
    }

    @Override
    public String uri() {
        return "jdbc:mariadb://" + proxy().hostAndPort() + "/test?user=" + server.user() + "&password="
                + server.password();
    }

    @Override
    String concat(String... parts) {
        return "CONCAT(" + String.join(", ", parts) + ")";
    }

    @Override
    String nowMillis() {
        return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";
    }

    @Override
    String query(String sql) {
        return server.sql(sql);
    }

    @Override
    void kill() {
        server.kill();
    }

    @Override
    void stop() {
        server.stop();
    }

    @Override
    void restart() {
        server.restart();
    }

    @Override
    void pause() {
        server.pause();
    }

    @Override
    void resume() {
        server.resume();
    }

    @Override
    void closeServer() {
        server.close();
    }
}
