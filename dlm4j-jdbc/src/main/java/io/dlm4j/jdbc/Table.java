package io.dlm4j.jdbc;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The lock table's name, and the names derived from it: the token sequence and the notification
 * channel. Names are plain SQL identifiers (optionally schema-qualified), never quoted, so that a
 * name means the same table in the DDL an operator runs by hand and in the store's statements.
 */
record Table(String name) {

    static final String DEFAULT = "dlm4j_locks";
    private static final Pattern IDENTIFIER = Pattern.compile("([a-z_][a-z0-9_]{0,62}\\.)?[a-z_][a-z0-9_]{0,50}");

    Table {
        if (name == null || !IDENTIFIER.matcher(name).matches()) {
            throw new IllegalArgumentException("table must be a lower-case SQL identifier of letters, digits and '_'"
                    + " (at most 51 characters, optionally 'schema.' before it), was "
                    + (name == null ? "null" : "'" + name + "'"));
        }
    }

    /** The sequence that issues fencing tokens: it outlives every row, so tokens never go back. */
    String sequence() {
        return name + "_token";
    }

    /**
     * PostgreSQL's NOTIFY channel of this table's releases: {@code dlm4j:<table>}, shortened with a
     * hash of the name where that would pass the 63 bytes of a PostgreSQL identifier.
     */
    String channel() {
        String channel = "dlm4j:" + name.toLowerCase(Locale.ROOT);
        if (channel.length() <= 63) {
            return channel;
        }
        return "dlm4j:" + Integer.toHexString(name.hashCode()) + ":" + name.substring(name.length() - 40);
    }

    @Override
    public String toString() {
        return name;
    }
}
