package io.dlm4j.redis;

import io.dlm4j.testservers.RedisServer;

import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** Small helpers shared by the single-Redis tests (not the Redlock ones). */
final class RedisTestSupport {

    private RedisTestSupport() {
    }

    /** Calls and failed calls of one command, from {@code INFO commandstats}. */
    record CommandStat(long calls, long failedCalls) {
    }

    /**
     * A stored lock value without the mark of the attempt that made it ({@code token~attempt:owner}
     * becomes {@code token:owner}); null stays null.
     */
    static String withoutMark(String value) {
        return value == null ? null : HoldValue.parse(value).unmarked().format();
    }

    /** A key no other test uses. */
    static String newKey(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /**
     * {@code INFO commandstats} as command name ({@code evalsha}, {@code config|resetstat}, ...)
     * to counts. Redis counts the commands a script runs as well as the top-level ones.
     */
    static Map<String, CommandStat> commandStats(RedisServer server) {
        String info = server.command("INFO", "commandstats");
        Map<String, CommandStat> stats = new TreeMap<>();
        for (String line : info.split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            int colon = line.indexOf(':');
            String name = line.substring("cmdstat_".length(), colon);
            long calls = 0;
            long failed = 0;
            for (String field : line.substring(colon + 1).split(",")) {
                int eq = field.indexOf('=');
                String fieldName = field.substring(0, eq);
                if (fieldName.equals("calls")) {
                    calls = Long.parseLong(field.substring(eq + 1));
                } else if (fieldName.equals("failed_calls")) {
                    failed = Long.parseLong(field.substring(eq + 1));
                }
            }
            stats.put(name, new CommandStat(calls, failed));
        }
        return stats;
    }

    /** Calls of {@code command} since the last {@code CONFIG RESETSTAT}; 0 if never called. */
    static long calls(RedisServer server, String command) {
        CommandStat stat = commandStats(server).get(command);
        return stat == null ? 0 : stat.calls();
    }

    /** Resets {@code INFO commandstats}. */
    static void resetStats(RedisServer server) {
        String reply = server.command("CONFIG", "RESETSTAT");
        if (!"+OK".equals(reply)) {
            throw new IllegalStateException("CONFIG RESETSTAT answered " + reply);
        }
    }
}
