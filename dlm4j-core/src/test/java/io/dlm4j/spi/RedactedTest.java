package io.dlm4j.spi;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RedactedTest {

    @Test
    void passwordsInTheUserPartAreMasked() {
        assertThat(Redacted.uri("redis://user:s3cret@host:6379/0")).isEqualTo("redis://user:***@host:6379/0");
        assertThat(Redacted.uri("redis://s3cret@host:6379")).as("a lone part may be a password").isEqualTo("redis://***@host:6379");
        assertThat(Redacted.uri("redis://:s3cret@host")).isEqualTo("redis://:***@host");
        assertThat(Redacted.uri("etcd://root:s3cret@h1:2379,h2:2379?prefix=x/")).isEqualTo("etcd://root:***@h1:2379,h2:2379?prefix=x/");
        assertThat(Redacted.uri("mongodb://u:p%40ss@h1,h2/db?authSource=admin")).isEqualTo("mongodb://u:***@h1,h2/db?authSource=admin");
        assertThat(Redacted.uri("jdbc:mysql://u:s3cret@db:3306/app")).isEqualTo("jdbc:mysql://u:***@db:3306/app");
    }

    @Test
    void passwordsWithUnencodedSlashesOrAtSignsAreMaskedWhole() {
        assertThat(Redacted.uri("redis://user:s3/cr@t@host:6379")).isEqualTo("redis://user:***@host:6379");
        assertThat(Redacted.uri("redlock://:a@b@h1:1,h2:2,h3:3")).isEqualTo("redlock://:***@h1:1,h2:2,h3:3");
    }

    @Test
    void secretParametersAreMasked() {
        assertThat(Redacted.uri("redis://host:6379?password=s3cret&prefix=x")).isEqualTo("redis://host:6379?password=***&prefix=x");
        assertThat(Redacted.uri("jdbc:postgresql://db:5432/app?user=u&password=s3cret&ssl=true"))
                .isEqualTo("jdbc:postgresql://db:5432/app?user=u&password=***&ssl=true");
        assertThat(Redacted.uri("jdbc:h2:mem:x;USER=sa;PASSWORD=s3cret")).isEqualTo("jdbc:h2:mem:x;USER=sa;PASSWORD=***");
        assertThat(Redacted.uri("jdbc:mariadb://db/app?sslPassword=s3cret")).isEqualTo("jdbc:mariadb://db/app?sslPassword=***");
    }

    @Test
    void uriWithoutCredentialsStaysAsItIs() {
        for (String uri : new String[] {"memory:", "redis://host:6379", "mongodb://h:27017/db?collection=locks",
                "etcd://h1:2379,h2:2379", "jdbc:h2:mem:test", "not a uri at all"}) {
            assertThat(Redacted.uri(uri)).isEqualTo(uri);
        }
        assertThat(Redacted.uri(null)).isNull();
    }

    @Test
    void mysqlKeyValueHostsAndMultiFactorPasswordsAreMasked() {
        assertThat(Redacted.uri("jdbc:mysql://(host=db,port=3306,user=u,password=s3cret)/app"))
                .isEqualTo("jdbc:mysql://(host=db,port=3306,user=u,password=***)/app");
        assertThat(Redacted.uri("jdbc:mysql://address=(host=db)(password=s3cret)/app"))
                .isEqualTo("jdbc:mysql://address=(host=db)(password=***)/app");
        assertThat(Redacted.uri("jdbc:mysql://db/app?user=u&password1=a1&password2=b2"))
                .isEqualTo("jdbc:mysql://db/app?user=u&password1=***&password2=***");
    }

    @Test
    void theSecretsOfAUriAreFoundAsWrittenAndDecoded() {
        assertThat(Redacted.secretsIn("jdbc:mariadb://bob:p%40ss@db/app?password=two&sslPassword=three"))
                .containsExactlyInAnyOrder("p%40ss", "p@ss", "two", "three");
        assertThat(Redacted.secretsIn("jdbc:mysql://(host=db,password=kv)/app")).containsExactly("kv");
        assertThat(Redacted.secretsIn("jdbc:postgresql://db/app?user=bob")).isEmpty();
        assertThat(Redacted.secretsIn(null)).isEmpty();
    }

    @Test
    void hideMasksEverySecretInAText() {
        assertThat(Redacted.hide("Incorrect port value : pw@host (pw)", java.util.Set.of("pw")))
                .isEqualTo("Incorrect port value : ***@host (***)");
        assertThat(Redacted.hide("a secret and a secret2", java.util.List.of("secret", "secret2")))
                .as("the longest first").isEqualTo("a *** and a ***");
        assertThat(Redacted.hide(null, java.util.Set.of("x"))).isNull();
    }
}
