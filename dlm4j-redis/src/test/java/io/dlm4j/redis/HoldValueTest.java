package io.dlm4j.redis;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The stored value's format: marks that no owner name can forge, owners with any character. */
class HoldValueTest {

    @Test
    void aMarkedValueRoundTrips() {
        HoldValue value = new HoldValue(7, "5e1f-2a", "pod-1");
        assertThat(value.format()).isEqualTo("7~5e1f-2a:pod-1");
        assertThat(HoldValue.parse(value.format())).isEqualTo(value);
    }

    @Test
    void anUnmarkedValueIsTheOldFormat() {
        assertThat(HoldValue.parse("12:pod-1")).isEqualTo(new HoldValue(12, null, "pod-1"));
        assertThat(new HoldValue(7, "a", "o").unmarked().format()).isEqualTo("7:o");
    }

    @Test
    void anOwnerWithColonsAndTildesStaysTheOwnerAndMarksNothing() {
        HoldValue unmarked = HoldValue.parse("3:x~attempt-1:y");
        assertThat(unmarked.owner()).isEqualTo("x~attempt-1:y");
        assertThat(unmarked.attempt()).as("a '~' in the owner is no mark").isNull();
        HoldValue marked = new HoldValue(3, "a-1", "b~c:d");
        assertThat(HoldValue.parse(marked.format())).isEqualTo(marked);
    }

    @Test
    void anAttemptThatCouldBreakTheFormatIsRefusedNamingTheRule() {
        assertThatThrownBy(() -> HoldValue.checkAttempt("a:b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("attempt").hasMessageContaining("':'");
        assertThatThrownBy(() -> HoldValue.checkAttempt("a~b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HoldValue.checkAttempt("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HoldValue.checkAttempt(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("attempt");
    }

    @Test
    void aValueNotWrittenByDlm4jIsAClearFailure() {
        assertThatThrownBy(() -> HoldValue.parse("no separator")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("without ':'");
        assertThatThrownBy(() -> HoldValue.parse("x:owner")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not a number");
    }
}
