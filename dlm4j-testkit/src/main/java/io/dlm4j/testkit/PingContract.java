package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conformance test of {@code Dlm.ping()} (docs/CONTRACT.md). Run by {@link ConformanceSuite} as
 * its nested {@code Ping} tests.
 */
public interface PingContract extends ConformanceFixture {

    @Test
    @DisplayName("returns a non-negative round trip below the operation timeout")
    default void pingReturnsRoundTrip() {
        Duration timeout = Duration.ofSeconds(5);
        Dlm dlm = dlm(options(OWNER_A).operationTimeout(timeout).build());
        for (int i = 0; i < 3; i++) {
            Duration roundTrip = dlm.ping();
            assertThat(roundTrip).isNotNull();
            assertThat(roundTrip.isNegative()).as("negative round trip %s", roundTrip).isFalse();
            assertThat(roundTrip).isLessThan(timeout);
        }
    }
}
