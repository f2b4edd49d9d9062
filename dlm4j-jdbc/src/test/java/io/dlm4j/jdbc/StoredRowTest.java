package io.dlm4j.jdbc;

import io.dlm4j.spi.Acquisition;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** How an acquire reads the row it left, where a second statement reads it back (MariaDB, H2). */
class StoredRowTest {

    @Test
    void aRowMarkedWithTheCallsAttemptIsANewHoldWithTheWholeTtl() {
        Acquisition a = new StoredRow("me", 7, 29_990, "attempt-1").asAcquisitionBy("me", "attempt-1", 30_000);
        assertThat(a.outcome()).isEqualTo(Acquisition.Outcome.ACQUIRED);
        assertThat(a.hold().fencingToken()).isEqualTo(7);
        assertThat(a.hold().remaining()).as("counted from the decision, not the later read").isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theOwnersRowWithoutTheMarkIsARelockWithWhatItHasLeft() {
        Acquisition a = new StoredRow("me", 7, 12_000, null).asAcquisitionBy("me", "attempt-2", 30_000);
        assertThat(a.outcome()).isEqualTo(Acquisition.Outcome.REFRESHED);
        assertThat(a.hold().remaining()).isEqualTo(Duration.ofSeconds(12));
    }

    @Test
    void anotherOwnersLiveRowIsBusy() {
        Acquisition a = new StoredRow("other", 3, 5_000, "their-attempt").asAcquisitionBy("me", "attempt-3", 30_000);
        assertThat(a.outcome()).isEqualTo(Acquisition.Outcome.HELD);
        assertThat(a.hold().owner()).isEqualTo("other");
        assertThat(a.hold().remaining()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aRowThatIsNoLongerLiveTellsNothing() {
        assertThat(new StoredRow("me", 7, 0, "attempt-4").asAcquisitionBy("me", "attempt-4", 30_000))
                .as("released between the two statements").isNull();
        assertThat(new StoredRow("other", 3, -5, null).asAcquisitionBy("me", "attempt-5", 30_000))
                .as("expired between the two statements").isNull();
    }
}
