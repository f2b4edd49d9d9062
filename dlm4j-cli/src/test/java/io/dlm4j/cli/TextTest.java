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
    void passwordsOfJdbcUrlsAreHidden() {
        assertThat(Text.redact("jdbc:postgresql://db:5432/app?user=bob&password=secret&ssl=true"))
                .isEqualTo("jdbc:postgresql://db:5432/app?user=bob&password=***&ssl=true");
        assertThat(Text.redact("jdbc:mariadb://db:3306/app?user=bob&password=secret&trustStorePassword=other"))
                .isEqualTo("jdbc:mariadb://db:3306/app?user=bob&password=***&trustStorePassword=***");
        assertThat(Text.redact("jdbc:mysql://bob:secret@db:3306/app")).isEqualTo("jdbc:mysql://bob:***@db:3306/app");
        assertThat(Text.redact("jdbc:h2:file:/var/lib/app/locks;USER=sa;PASSWORD=secret;AUTO_SERVER=TRUE"))
                .isEqualTo("jdbc:h2:file:/var/lib/app/locks;USER=sa;PASSWORD=***;AUTO_SERVER=TRUE");
        assertThat(Text.redact("jdbc:h2:mem:x;password=secret")).isEqualTo("jdbc:h2:mem:x;password=***");
        // MySQL Connector/J's forms that Redacted does not know
        assertThat(Text.redact("jdbc:mysql://(host=db,port=3306,user=bob,password=secret)/app"))
                .isEqualTo("jdbc:mysql://(host=db,port=3306,user=bob,password=***)/app");
        assertThat(Text.redact("jdbc:mysql://address=(host=db)(user=bob)(password=secret)/app"))
                .isEqualTo("jdbc:mysql://address=(host=db)(user=bob)(password=***)/app");
        assertThat(Text.redact("jdbc:mysql://db/app?user=bob&password1=one&password2=two"))
                .isEqualTo("jdbc:mysql://db/app?user=bob&password1=***&password2=***");
        assertThat(Text.redact("jdbc:h2:mem:demo")).isEqualTo("jdbc:h2:mem:demo");
    }

    @Test
    void secretsOfAUriAreFoundAsWrittenAndDecoded() {
        assertThat(Text.secretsIn("jdbc:mariadb://bob:p%40ss@db/app?password=two&sslPassword=three"))
                .containsExactlyInAnyOrder("p%40ss", "p@ss", "two", "three");
        assertThat(Text.secretsIn("jdbc:h2:file:/tmp/db;PASSWORD=filepw userpw")).containsExactly("filepw userpw");
        assertThat(Text.secretsIn("jdbc:postgresql://db/app?user=bob")).isEmpty();
        assertThat(Text.secretsIn("redis://only-a-password@host")).containsExactly("only-a-password");
        assertThat(Text.secretsIn(null)).isEmpty();
    }

    @Test
    void theSecretsOfTheRunsUrisAreHiddenInEveryMessage() {
        Text.hideSecretsOf("jdbc:mariadb://bob:TextTest-s3cret@db:3306/app");
        // MariaDB Connector/J reads the user part as host and port, and says so
        assertThat(Text.oneLine("ping failed: Incorrect port value : TextTest-s3cret@db"))
                .isEqualTo("ping failed: Incorrect port value : ***@db");
        assertThat(Text.scrub("Failed to get driver instance for jdbcUrl=jdbc:mariadb://bob:TextTest-s3cret@db:3306/app"))
                .isEqualTo("Failed to get driver instance for jdbcUrl=jdbc:mariadb://bob:***@db:3306/app");
        assertThat(Text.redact("jdbc:other://db?TextTest-s3cret")).isEqualTo("jdbc:other://db?***");
    }

    @Test
    void messagesBecomeOneLine() {
        assertThat(Text.oneLine("first\nsecond\r\n third ")).isEqualTo("first second third");
    }
}
