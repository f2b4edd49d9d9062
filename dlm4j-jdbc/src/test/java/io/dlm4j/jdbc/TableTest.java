package io.dlm4j.jdbc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Table names, their sequence and channel; the text PostgreSQL stores. */
class TableTest {

    @ParameterizedTest
    @ValueSource(strings = {"dlm4j_locks", "locks", "app.dlm4j_locks", "_x1"})
    void plainLowerCaseIdentifiersAreTables(String name) {
        assertThat(new Table(name).name()).isEqualTo(name);
        assertThat(new Table(name).sequence()).isEqualTo(name + "_token");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Locks", "1locks", "locks;drop table x", "a.b.c", "lock-s", "\"locks\""})
    void anythingElseIsRefusedNamingTheArgument(String name) {
        assertThatThrownBy(() -> new Table(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("table must be a lower-case SQL identifier");
    }

    @Test
    void aNullNameIsRefused() {
        assertThatThrownBy(() -> new Table(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    @Test
    void channelsFitAPostgresIdentifier() {
        assertThat(new Table("dlm4j_locks").channel()).isEqualTo("dlm4j:dlm4j_locks");
        String longest = "s".repeat(63) + "." + "t".repeat(51);
        assertThat(new Table(longest).channel()).hasSizeLessThanOrEqualTo(63).startsWith("dlm4j:");
        assertThat(new Table(longest).channel()).isNotEqualTo(new Table("s".repeat(62) + "x." + "t".repeat(51)).channel());
    }

    @Test
    void postgresTextEscapesNulAndTheEscapeOnly() {
        PostgresDialect dialect = new PostgresDialect(new Table("dlm4j_locks"));
        for (String text : new String[] {"plain", "k\0", "\\0", "\\", "a\\\0b\0\\", "\0\0", "ä😀"}) {
            String stored = dialect.encode(text);
            assertThat(stored).doesNotContain("\0");
            assertThat(dialect.decode(stored)).isEqualTo(text);
        }
        assertThat(dialect.encode("k\0")).isNotEqualTo(dialect.encode("k\\0"));
        assertThat(dialect.encode("plain")).isSameAs("plain");
    }
}
