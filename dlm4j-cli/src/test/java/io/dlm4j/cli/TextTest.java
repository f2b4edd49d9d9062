package io.dlm4j.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextTest {

    @Test
    void jsonStringsAreEscaped() {
        assertThat(Text.json("plain")).isEqualTo("\"plain\"");
        assertThat(Text.json("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(Text.json("line\nnext\ttab\r\b\f")).isEqualTo("\"line\\nnext\\ttab\\r\\b\\f\"");
        assertThat(Text.json("\u0001\u001f")).isEqualTo("\"\\u0001\\u001f\"");
        assertThat(Text.json("\u2028")).isEqualTo("\"\\u2028\"");
        assertThat(Text.json("ключ 🔒")).isEqualTo("\"ключ 🔒\"");
        assertThat(Text.json("lone \ud800 surrogate")).isEqualTo("\"lone \\ud800 surrogate\"");
        assertThat(Text.json(null)).isEqualTo("null");
    }

    @Test
    void remainingTimes() {
        assertThat(Text.remaining(0)).isEqualTo("0 s");
        assertThat(Text.remaining(450)).isEqualTo("450 ms");
        assertThat(Text.remaining(11_001)).isEqualTo("12 s");
        assertThat(Text.remaining(245_000)).isEqualTo("4 min 5 s");
        assertThat(Text.remaining(7_380_000)).isEqualTo("2 h 3 min");
    }

    @Test
    void passwordsAreHidden() {
        assertThat(Text.redact("redis://user:secret@host:6379")).isEqualTo("redis://user:***@host:6379");
        assertThat(Text.redact("redis://secret@host:6379")).isEqualTo("redis://***@host:6379");
        assertThat(Text.redact("redis://host:6379?password=secret&prefix=x")).isEqualTo("redis://host:6379?password=***&prefix=x");
        assertThat(Text.redact("mongodb://host:27017/app")).isEqualTo("mongodb://host:27017/app");
    }

    @Test
    void messagesBecomeOneLine() {
        assertThat(Text.oneLine("first\nsecond\r\n third ")).isEqualTo("first second third");
    }
}
