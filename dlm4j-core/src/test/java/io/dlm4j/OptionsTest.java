package io.dlm4j;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionsTest {

    @Test
    void defaultsAreThoseOfTheContract() {
        DlmOptions defaults = DlmOptions.defaults();
        assertThat(defaults.defaultTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.waitingInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(defaults.autoRefresh()).isFalse();
        assertThat(defaults.operationTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.clock()).isNotNull();
        assertThat(defaults.defaultOwner()).isNotBlank();
    }

    @Test
    void toBuilderKeepsEverything() {
        Clock clock = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));
        DlmOptions options = DlmOptions.builder().defaultOwner("pod-7").defaultTtl(Duration.ofSeconds(3))
                .waitingInterval(Duration.ofMillis(7)).autoRefresh(true).clock(clock)
                .operationTimeout(Duration.ofSeconds(2)).build();
        DlmOptions copy = options.toBuilder().build();
        assertThat(copy.defaultOwner()).isEqualTo("pod-7");
        assertThat(copy.defaultTtl()).isEqualTo(Duration.ofSeconds(3));
        assertThat(copy.waitingInterval()).isEqualTo(Duration.ofMillis(7));
        assertThat(copy.autoRefresh()).isTrue();
        assertThat(copy.clock()).isSameAs(clock);
        assertThat(copy.operationTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void badDlmOptionsNameTheArgumentAndTheRule() {
        DlmOptions.Builder builder = DlmOptions.builder();
        assertThatThrownBy(() -> builder.defaultOwner(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("defaultOwner").hasMessageContaining("not blank");
        assertThatThrownBy(() -> builder.defaultTtl(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("defaultTtl").hasMessageContaining("positive");
        assertThatThrownBy(() -> builder.waitingInterval(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("waitingInterval");
        assertThatThrownBy(() -> builder.operationTimeout(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("operationTimeout");
        assertThatThrownBy(() -> builder.clock(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("clock");
    }

    @Test
    void mutexOptionsLeaveOutWhatFallsBackToTheDefaults() {
        MutexOptions options = MutexOptions.builder("k").build();
        assertThat(options.key()).isEqualTo("k");
        assertThat(options.owner()).isNull();
        assertThat(options.ttl()).isNull();
        assertThat(options.autoRefresh()).isNull();
    }

    @Test
    void keysAreCountedInCharactersNotUtf16Units() {
        String emoji = "\uD83D\uDD12"; // one character, two UTF-16 units
        assertThat(MutexOptions.builder(emoji.repeat(512)).build().key()).hasSize(1024);
        assertThatThrownBy(() -> MutexOptions.builder(emoji.repeat(513)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key must be 1 to 512 characters");
    }

    @Test
    void badMutexOptionsNameTheArgumentAndTheRule() {
        assertThatThrownBy(() -> MutexOptions.builder(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("key");
        assertThatThrownBy(() -> MutexOptions.builder("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key must be 1 to 512 characters");
        assertThatThrownBy(() -> MutexOptions.builder("k").owner("x".repeat(257)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner must be 1 to 256");
        assertThatThrownBy(() -> MutexOptions.builder("k").ttl(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl must be positive");
    }

    @Test
    void unpairedSurrogatesAreRefusedInKeysAndOwners() {
        assertThatThrownBy(() -> MutexOptions.builder("s\uD800"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key must be well-formed UTF-16").hasMessageContaining("U+D800 at index 1");
        assertThatThrownBy(() -> MutexOptions.builder("\uDC00x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("U+DC00 at index 0");
        assertThatThrownBy(() -> MutexOptions.builder("k").owner("o\uD800"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner must be well-formed UTF-16");
        assertThatThrownBy(() -> DlmOptions.builder().defaultOwner("\uDBFF"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner must be well-formed");
        assertThat(MutexOptions.builder("\uD83D\uDD12 lock").owner("\uD83D\uDC33").build().key())
                .as("a paired surrogate (one supplementary character) is fine").isEqualTo("\uD83D\uDD12 lock");
    }

    @Test
    void ttlsLongerThanAYearAreRefused() {
        assertThat(MutexOptions.builder("k").ttl(Duration.ofDays(365)).build().ttl()).isEqualTo(Duration.ofDays(365));
        assertThatThrownBy(() -> MutexOptions.builder("k").ttl(Duration.ofDays(365).plusNanos(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl must be at most 365 days");
        assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(Duration.ofDays(1000 * 365)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultTtl must be at most 365 days");
    }
}
