package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The conformance tests of the input limits that reach the store: the longest keys and owners,
 * unusual characters in keys, and the backend's factory refusing null options (docs/CONTRACT.md).
 * The checks that the engine makes before any store call (null, blank or too long keys and owners,
 * bad ttls and options) are dlm4j-core's {@code BadArgumentsTest}, run once rather than on every
 * backend. Run by {@link ConformanceSuite} as its nested {@code BadArguments} tests.
 */
public interface BadArgumentsContract extends ConformanceFixture {

    @Test
    @DisplayName("512-character keys work, ASCII and not")
    default void longestKeys() {
        Dlm a = dlm(OWNER_A);
        Dlm b = dlm(OWNER_B);
        String ascii512 = key() + "x".repeat(512 - key().length());
        String unicode512 = key() + "ü".repeat(512 - key().length());
        for (String key : List.of(ascii512, unicode512)) {
            Mutex mutex = a.newMutex(key);
            try (Lease lease = acquired(mutex.tryLock(), "tryLock on a 512-character key")) {
                assertThat(lease.key()).isEqualTo(key);
                LockInfo info = b.newMutex(key).holder().orElseThrow(() -> new AssertionError("holder() is empty"));
                assertThat(info.key()).isEqualTo(key);
                assertThat(info.owner()).isEqualTo(OWNER_A);
                assertThat(b.newMutex(key).tryLock()).isEmpty();
            }
            assertThat(mutex.holder()).isEmpty();
        }
    }

    @Test
    @DisplayName("keys with Unicode, spaces, $, dots, braces, quotes, newlines, case and accents are distinct locks")
    default void unusualKeysAreDistinct() {
        List<String> suffixes = List.of("", " ", "  ", "x", "X", "é", "e\u0301", "ü", "日本語", "🔒", "$", "$where",
                ".", "a.b", "{tag}", "{", "}", "'", "\"", "\\", "\n", "\t", "\r\n", "%", "_", "*", "?", "/", ":",
                "ß", "ss");
        Dlm dlm = dlm(OWNER_A);
        Dlm reader = dlm(OWNER_B);
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < suffixes.size(); i++) {
            String key = key() + suffixes.get(i);
            Mutex mutex = mutex(dlm, key, "owner-" + i, LONG_TTL);
            leases.add(acquired(mutex.tryLock(), "owner-" + i + "'s tryLock on key " + i + " (suffix '"
                    + suffixes.get(i).replace("\n", "\\n") + "')"));
        }
        for (int i = 0; i < suffixes.size(); i++) {
            String key = key() + suffixes.get(i);
            LockInfo info = reader.newMutex(key).holder()
                    .orElseThrow(() -> new AssertionError("holder() is empty for a key"));
            assertThat(info.key()).isEqualTo(key);
            assertThat(info.owner()).as("holder of key %d", i).isEqualTo("owner-" + i);
            assertThat(info.fencingToken()).isEqualTo(leases.get(i).fencingToken());
            leases.get(i).close();
            assertThat(reader.newMutex(key).holder()).isEmpty();
            if (i + 1 < suffixes.size()) {
                assertThat(reader.newMutex(key() + suffixes.get(i + 1)).holder())
                        .as("releasing key %d left key %d held", i, i + 1).isPresent();
            }
        }
    }

    @Test
    @DisplayName("256-character owners work and differ by their last character")
    default void longestOwners() {
        String owner1 = "o".repeat(255) + "1";
        String owner2 = "o".repeat(255) + "2";
        Mutex one = dlm(owner1).newMutex(key());
        Mutex two = dlm(DlmOptions.builder().defaultOwner(owner2).build()).newMutex(key());
        try (Lease lease = acquired(one.tryLock(), "tryLock of a 256-character owner")) {
            assertThat(lease.owner()).isEqualTo(owner1);
            assertThat(two.holder()).get().extracting(LockInfo::owner).isEqualTo(owner1);
            assertThat(two.tryLock()).isEmpty();
        }
    }

    @Test
    @DisplayName("null options: NullPointerException naming options")
    default void nullOptions() {
        Dlm dlm = dlm(OWNER_A);
        assertThatThrownBy(() -> dlm.newMutex((MutexOptions) null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("options");
        assertThatThrownBy(() -> {
            Dlm unexpected = createDlm(null);
            if (unexpected != null) {
                unexpected.close();
            }
        }).isInstanceOf(NullPointerException.class).hasMessageContaining("options");
    }
}
