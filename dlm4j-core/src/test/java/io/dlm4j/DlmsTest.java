package io.dlm4j;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DlmsTest {

    @Test
    void memorySchemeGivesAWorkingDlm() throws InterruptedException {
        try (Dlm dlm = Dlms.fromUri("memory:", DlmOptions.builder().defaultOwner("me").build())) {
            Mutex mutex = dlm.newMutex("dlms-test-" + System.nanoTime(), Duration.ofSeconds(5));
            try (Lease lease = mutex.lock(Duration.ZERO)) {
                assertThat(lease.owner()).isEqualTo("me");
                assertThat(mutex.holder()).hasValueSatisfying(h -> assertThat(h.owner()).isEqualTo("me"));
            }
        }
    }

    @Test
    void schemeIsCaseInsensitive() {
        try (Dlm dlm = Dlms.fromUri("MEMORY:", DlmOptions.defaults())) {
            assertThat(dlm.ping().isNegative()).isFalse();
        }
    }

    @Test
    void knownSchemeWithoutItsArtifactNamesTheArtifact() {
        assertThatThrownBy(() -> Dlms.fromUri("redis://localhost:6379", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'redis'")
                .hasMessageContaining("io.dlm4j:dlm4j-redis");
        assertThatThrownBy(() -> Dlms.fromUri("jdbc:postgresql://localhost/db", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("io.dlm4j:dlm4j-jdbc");
        assertThatThrownBy(() -> Dlms.fromUri("mongodb://localhost", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("io.dlm4j:dlm4j-mongo");
    }

    @Test
    void unknownSchemeIsNamed() {
        assertThatThrownBy(() -> Dlms.fromUri("zookeeper://localhost:2181", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'zookeeper'")
                .hasMessageContaining("unknown");
    }

    @Test
    void uriWithoutSchemeIsRejected() {
        assertThatThrownBy(() -> Dlms.fromUri("localhost:6379", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'localhost'");
        assertThatThrownBy(() -> Dlms.fromUri("no-scheme-at-all", DlmOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("uri must start with a scheme");
    }

    @Test
    void nullsAreNamed() {
        assertThatThrownBy(() -> Dlms.fromUri(null, DlmOptions.defaults()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("uri");
        assertThatThrownBy(() -> Dlms.fromUri("memory:", null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("options");
    }
}
