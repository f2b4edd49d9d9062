package io.dlm4j.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * The JDBC backends' counter, and the connection pool of the fork: one HikariCP pool of
 * {@link #POOL_SIZE} connections (dlm4j's own {@code Dlms.fromUri} pool size) that every library of
 * the fork uses through {@link #dataSource()}, which counts what reaches the driver: statements
 * executed, by their first word ({@code with insert} for a {@code WITH … AS (INSERT …)}), and the
 * connection calls that are round trips: {@code commit}, {@code rollback},
 * {@code setTransactionIsolation}, and on MariaDB a {@code setAutoCommit} that changes the mode
 * (its driver sends {@code set autocommit}; pgjdbc sends nothing for it, its {@code BEGIN} goes with
 * the next statement). Counted at the
 * DataSource, i.e. client side: what the pool does under it (HikariCP resetting a connection's
 * isolation or autocommit when it comes back) is not seen. Keys: the rows of the bench's tables.
 */
final class JdbcCounter implements ServerCounter, DataSource {

    static final int POOL_SIZE = 8;
    /** Every table a library of the bench makes, as each names it. */
    static final List<String> TABLES = List.of("dlm4j_locks", JdbcLibraries.RAW_TABLE, JdbcLibraries.POLL_TABLE,
            JdbcLibraries.SHEDLOCK_TABLE, JdbcLibraries.SI_TABLE);
    private static final Set<String> STATEMENT_METHODS = Set.of("execute", "executeQuery", "executeUpdate",
            "executeLargeUpdate", "executeBatch", "executeLargeBatch");

    private final String backend;
    private final HikariDataSource pool;
    private final String url;
    private final String user;
    private final String password;
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    /**
     * @param servers the JDBC URL, the user and the password
     * @param urlParameters added to the pool's URL (MariaDB's {@code useAffectedRows=true} for the raw statements)
     */
    JdbcCounter(String backend, List<String> servers, String urlParameters) {
        this.backend = backend;
        this.url = servers.get(0);
        this.user = servers.get(1);
        this.password = servers.get(2);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(urlParameters.isEmpty() ? url : url + (url.contains("?") ? "&" : "?") + urlParameters);
        config.setUsername(user);
        config.setPassword(password);
        config.setPoolName("bench " + backend);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE); // all opened up front: no connection is made while timing
        config.setAutoCommit(true);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(30_000);
        this.pool = new HikariDataSource(config);
    }

    String backend() {
        return backend;
    }

    String url() {
        return url;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    /** The pool itself, uncounted: for creating tables. */
    DataSource uncounted() {
        return pool;
    }

    /** The counted pool, the one every library gets. */
    DataSource dataSource() {
        return this;
    }

    /** Runs {@code sql} on an uncounted connection. */
    void execute(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private void count(String what) {
        counts.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    static String verb(String sql) {
        String s = sql.strip().toLowerCase(Locale.ROOT);
        String first = firstWord(s);
        if (first.equals("with")) {
            int open = s.indexOf('(');
            return open < 0 ? first : "with " + firstWord(s.substring(open + 1).strip());
        }
        return first;
    }

    private static String firstWord(String s) {
        int end = 0;
        while (end < s.length() && Character.isLetter(s.charAt(end))) {
            end++;
        }
        return end == 0 ? "?" : s.substring(0, end);
    }

    @Override
    public Map<String, Long> commands() {
        Map<String, Long> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    @Override
    public long keys() {
        String schema = backend.equals("postgres") ? "current_schema()" : "DATABASE()";
        long n = 0;
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            List<String> present = new java.util.ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = " + schema)) {
                while (r.next()) {
                    String name = r.getString(1);
                    if (TABLES.stream().anyMatch(name::equalsIgnoreCase)) {
                        present.add(name);
                    }
                }
            }
            for (String table : present) {
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
                    r.next();
                    n += r.getLong(1);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("counting the rows of " + TABLES + ": " + e, e);
        }
        return n;
    }

    @Override
    public void close() {
        pool.close();
    }

    // --- DataSource: the pool's connections, counted ---

    @Override
    public Connection getConnection() throws SQLException {
        return counted(pool.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return counted(pool.getConnection(username, password));
    }

    private Connection counted(Connection connection) {
        InvocationHandler h = (proxy, method, args) -> {
            String name = method.getName();
            switch (name) {
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "commit", "rollback" -> count(name);
                case "setTransactionIsolation" -> count("set isolation");
                case "setAutoCommit" -> {
                    if (!backend.equals("postgres") && (Boolean) args[0] != connection.getAutoCommit()) {
                        count("set autocommit");
                    }
                }
                default -> {
                }
            }
            Object result = invoke(connection, method, args);
            if (result instanceof Statement statement && name.startsWith("prepare")) {
                return counted(statement, verb((String) args[0]), method.getReturnType());
            }
            if (result instanceof Statement statement && name.equals("createStatement")) {
                return counted(statement, null, Statement.class);
            }
            return result;
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
    }

    private Object counted(Statement statement, String verb, Class<?> type) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("equals")) {
                return proxy == args[0];
            }
            if (method.getName().equals("hashCode")) {
                return System.identityHashCode(proxy);
            }
            if (STATEMENT_METHODS.contains(method.getName())) {
                count(verb != null ? verb : args != null && args.length > 0 && args[0] instanceof String sql ? verb(sql) : "?");
            }
            return invoke(statement, method, args);
        };
        Class<?> iface = type.isInterface() ? type : PreparedStatement.class;
        return Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {iface}, h);
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return pool.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        return pool.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type) throws SQLException {
        return type.isInstance(this) || pool.isWrapperFor(type);
    }
}
