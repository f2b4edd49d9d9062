package io.dlm4j.testkit;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The property runner fails, shrinks and names the seed; otherwise it runs every try. */
class ForAllTest {

    @Test
    void aPropertyThatHoldsRunsEveryTry() {
        AtomicInteger runs = new AtomicInteger();
        ForAll.strings(InputGenerators::validKey).check(100, key -> {
            runs.incrementAndGet();
            assertThat(InputGenerators.length(key)).isBetween(1, 512);
        });
        assertThat(runs).hasValue(100);
    }

    @Test
    void aFailingKeyIsShrunkToItsCulpritAndTheSeedIsNamed() {
        AssertionError error = catchThrowableOfType(AssertionError.class, () ->
                ForAll.strings(r -> "abc}" + InputGenerators.validKey(r) + "xyz").check(10,
                        key -> assertThat(key).doesNotContain("}")));
        assertThat(error.getMessage())
                .contains("smallest failing input (")
                .contains("smallest failing input (").contains(": \"}\" (1 characters)")
                .containsPattern("-Ddlm4j\\.seed=-?\\d+");
    }

    @Test
    void theSeedPropertyRepeatsARun() {
        StringBuilder first = new StringBuilder();
        StringBuilder second = new StringBuilder();
        String before = System.getProperty(ForAll.SEED_PROPERTY);
        System.setProperty(ForAll.SEED_PROPERTY, "42");
        try {
            ForAll.strings(InputGenerators::validKey).check(20, first::append);
            ForAll.strings(InputGenerators::validKey).check(20, second::append);
        } finally {
            if (before == null) {
                System.clearProperty(ForAll.SEED_PROPERTY);
            } else {
                System.setProperty(ForAll.SEED_PROPERTY, before);
            }
        }
        assertThat(second.toString()).isEqualTo(first.toString());
    }
}
