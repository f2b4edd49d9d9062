package io.dlm4j;

import io.dlm4j.memory.InMemoryDlm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bad keys, owners, ttls and options: the engine refuses them before any store call, whatever the
 * backend, so they are tested once here, on the in-memory backend, rather than in every backend's
 * conformance suite. The limits that do reach a store (the longest keys and owners, unusual
 * characters, a backend factory given null options) stay in the testkit's
 * {@code BadArgumentsContract}.
 */
@DisplayName("Bad arguments")
class BadArgumentsTest {

    private static final String OWNER_A = "owner-a";

    private final List<Dlm> dlms = new ArrayList<>();
    private String key;

    @BeforeEach
    void nameTheKey(TestInfo info) {
        key = "dlm4j-" + info.getTestMethod().map(Method::getName).orElse("test");
    }

    @AfterEach
    void closeDlms() {
        dlms.forEach(Dlm::close);
    }

    private String key() {
        return key;
    }

    private Dlm dlm(String owner) {
        Dlm dlm = InMemoryDlm.create(DlmOptions.builder().defaultOwner(owner).defaultTtl(Duration.ofSeconds(30)).build());
        dlms.add(dlm);
        return dlm;
    }

    @Test
    @DisplayName("null key: NullPointerException naming key")
    void nullKey() {
        Dlm dlm = dlm(OWNER_A);
        assertThatThrownBy(() -> dlm.newMutex((String) null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
        assertThatThrownBy(() -> dlm.newMutex(null, Duration.ofSeconds(1)))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
        assertThatThrownBy(() -> MutexOptions.builder(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
    }

    @Test
    @DisplayName("empty key and 513-character keys: IllegalArgumentException naming key and 512")
    void badKeyLength() {
        Dlm dlm = dlm(OWNER_A);
        String ascii513 = key() + "x".repeat(513 - key().length());
        String unicode513 = key() + "ü".repeat(513 - key().length());
        for (String bad : List.of("", ascii513, unicode513)) {
            assertThatThrownBy(() -> dlm.newMutex(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
            assertThatThrownBy(() -> dlm.newMutex(bad, Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
            assertThatThrownBy(() -> MutexOptions.builder(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key").hasMessageContaining("512");
        }
    }

    @Test
    @DisplayName("null owner: NullPointerException naming the owner")
    void nullOwner() {
        assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("defaultOwner");
    }

    @Test
    @DisplayName("empty, blank and 257-character owners: IllegalArgumentException naming owner and the rule")
    void badOwners() {
        for (String bad : List.of("", "o".repeat(257), "ö".repeat(257))) {
            assertThatThrownBy(() -> MutexOptions.builder(key()).owner(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("256");
            assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("256");
        }
        for (String blank : List.of(" ", "   ", "\t\n")) {
            assertThatThrownBy(() -> MutexOptions.builder(key()).owner(blank))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("owner").hasMessageContaining("blank");
            assertThatThrownBy(() -> DlmOptions.builder().defaultOwner(blank))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultOwner").hasMessageContaining("blank");
        }
    }

    @Test
    @DisplayName("zero, negative and null ttl: IllegalArgumentException / NullPointerException naming ttl")
    void badTtl() {
        Dlm dlm = dlm(OWNER_A);
        for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1), Duration.ofSeconds(-30))) {
            assertThatThrownBy(() -> dlm.newMutex(key(), bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
            assertThatThrownBy(() -> MutexOptions.builder(key()).ttl(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl").hasMessageContaining("positive");
            assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultTtl").hasMessageContaining("positive");
        }
        assertThatThrownBy(() -> dlm.newMutex(key(), null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("ttl");
        assertThatThrownBy(() -> DlmOptions.builder().defaultTtl(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("defaultTtl");
    }

    @Test
    @DisplayName("DlmOptions setters: null is NullPointerException, zero or negative durations IllegalArgumentException, naming the setting")
    void badDlmOptions() {
        assertThatThrownBy(() -> DlmOptions.builder().waitingInterval(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("waitingInterval");
        assertThatThrownBy(() -> DlmOptions.builder().operationTimeout(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("operationTimeout");
        assertThatThrownBy(() -> DlmOptions.builder().clock(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("clock");
        for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-5))) {
            assertThatThrownBy(() -> DlmOptions.builder().waitingInterval(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("waitingInterval");
            assertThatThrownBy(() -> DlmOptions.builder().operationTimeout(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operationTimeout");
        }
    }
}
