package io.dlm4j.torture;

import io.dlm4j.testservers.PostgresServer;

/** One PostgreSQL server (the launcher's: fsync off, synchronous_commit on, so a kill -9 keeps every commit). */
final class PostgresSystem extends JdbcSystem {

    private final PostgresServer server;

    PostgresSystem() {
        this(PostgresServer.start());
    }

    private PostgresSystem(PostgresServer server) {
        super(server.port(), server::close);
        this.server = server;
    }

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public String uri() {
        return "jdbc:postgresql://" + proxy().hostAndPort() + "/postgres?user=" + server.user() + "&password="
                + server.password();
    }

    @Override
    String concat(String... parts) {
        return String.join(" || ", parts);
    }

    @Override
    String nowMillis() {
        return "(extract(epoch from now()) * 1000)::bigint";
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
