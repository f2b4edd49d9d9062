package io.dlm4j.torture;

import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * One database server of dlm4j-jdbc (PostgreSQL or MariaDB) behind a loopback proxy; the workers
 * reach it with {@code Dlms.fromUri("jdbc:…")}, each through the Dlm's own HikariCP pool. The
 * server keeps its data across every restart: committed rows survive a kill -9 (PostgreSQL with
 * {@code synchronous_commit=on}, MariaDB with {@code innodb-flush-log-at-trx-commit=2}), and so do the
 * token sequences, so tokens must stay in order under every fault.
 */
abstract class JdbcSystem implements SystemUnderTest {

    /** The lock table the workers' Dlms create (dlm4j-jdbc's default). */
    static final String TABLE = "dlm4j_locks";

    private final LoopbackProxy proxy;

    /** @param closeServer closes the server if the proxy cannot start */
    JdbcSystem(int serverPort, Runnable closeServer) {
        try {
            this.proxy = LoopbackProxy.start(serverPort);
        } catch (RuntimeException e) {
            closeServer.run();
            throw e;
        }
    }

    LoopbackProxy proxy() {
        return proxy;
    }

    @Override
    public List<LoopbackProxy> proxies() {
        return List.of(proxy);
    }

    @Override
    public List<Fault> serverFaults() {
        return List.of(Fault.KILL_RESTART_SERVER, Fault.RESTART_SERVER, Fault.PAUSE_SERVER);
    }

    @Override
    public Heal inject(Fault fault, Random random) {
        return switch (fault) {
            case KILL_RESTART_SERVER -> {
                kill();
                yield this::restart;
            }
            case RESTART_SERVER -> {
                // a clean shutdown (the server disconnects its clients), then a start on the same port
                stop();
                yield this::restart;
            }
            case PAUSE_SERVER -> {
                pause();
                yield this::resume;
            }
            default -> throw new IllegalArgumentException("fault " + fault.label() + " does not apply to " + name());
        };
    }

    /** The holds with time left by the database's clock, each as {@code key=token:owner}. */
    @Override
    public Set<String> liveHolds() {
        return lines(query("SELECT " + concat("lock_key", "'='", "token", "':'", "owner") + " FROM " + TABLE
                + " WHERE expires_at > " + nowMillis()));
    }

    /**
     * The holds of {@code before} whose key's row still has their token or a higher one, expired or
     * not. A restart takes about as long as the 1 s ttl, so whether a hold was kept is whether the
     * database still has its record, not whether it still has time; and a clean shutdown lets the
     * clients release and take locks until it disconnects them, so a later token on the key means
     * the hold ended the ordinary way, while a lower one, or no row, would mean the database lost it.
     */
    @Override
    public Set<String> keptAcrossRestart(Set<String> before) {
        java.util.Map<String, Long> tokens = new java.util.HashMap<>();
        for (String row : lines(query("SELECT " + concat("lock_key", "'='", "token") + " FROM " + TABLE))) {
            int eq = row.lastIndexOf('=');
            tokens.put(row.substring(0, eq), Long.parseLong(row.substring(eq + 1)));
        }
        Set<String> kept = new java.util.HashSet<>();
        for (String hold : before) {
            int eq = hold.lastIndexOf('=');
            int colon = hold.indexOf(':', eq);
            Long now = tokens.get(hold.substring(0, eq));
            if (now != null && now >= Long.parseLong(hold.substring(eq + 1, colon))) {
                kept.add(hold);
            }
        }
        return kept;
    }

    private static Set<String> lines(String out) {
        return out.isBlank() ? Set.of() : Set.copyOf(List.of(out.strip().split("\n")));
    }

    /** SQL that concatenates the parts. */
    abstract String concat(String... parts);

    /** SQL for the database's time in milliseconds since the epoch, as dlm4j-jdbc computes it. */
    abstract String nowMillis();

    /** Runs a query on the server directly (not through the proxy), one row a line. */
    abstract String query(String sql);

    abstract void kill();

    abstract void stop();

    abstract void restart();

    abstract void pause();

    abstract void resume();

    abstract void closeServer();

    @Override
    public void close() {
        proxy.close();
        closeServer();
    }
}
