package io.dlm4j.redis;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisKeysTest {

    @Test
    void plainKeysAreTheirOwnHashTag() {
        assertThat(new RedisKeys("dlm4j:").of("orders-42")).containsExactly("dlm4j:{orders-42}", "dlm4j:{orders-42}:fence");
    }

    @Test
    void closingBracesAndBackslashesAreEscapedOneToOne() {
        assertThat(RedisKeys.hashTagSafe("}x")).isEqualTo("\\)x");
        assertThat(RedisKeys.hashTagSafe("a\\)")).isEqualTo("a\\\\)");
        assertThat(RedisKeys.hashTagSafe("a}")).isNotEqualTo(RedisKeys.hashTagSafe("a\\)"));
        assertThat(RedisKeys.hashTagSafe("{open")).isEqualTo("{open");
    }

    @Test
    void aPrefixWithBracesIsRejected() {
        assertThatThrownBy(() -> new RedisKeys("app{1}:")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyPrefix");
    }
}
