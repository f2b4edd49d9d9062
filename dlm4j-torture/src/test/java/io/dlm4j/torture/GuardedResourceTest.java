package io.dlm4j.torture;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The guarded resource's registers, driven through its line protocol. */
class GuardedResourceTest {

    @Test
    void aReadWithAHigherTokenTurnsAwayTheWriteOfAnOlderHolder() {
        try (GuardedResource r = GuardedResource.start()) {
            assertThat(r.handle("READ k A 5")).isEqualTo("OK 1 0 0");
            assertThat(r.processesInCriticalSection()).containsExactly("A");
            assertThat(r.handle("READ k B 6")).isEqualTo("OK 1 0 0");
            assertThat(r.handle("WRITE k A 5 1 1")).isEqualTo("OK 0 1"); // fenced: turned away
            assertThat(r.handle("WRITE k B 6 1 1")).isEqualTo("OK 1 1");

            Findings f = new Checker(Long.MAX_VALUE).check(java.util.List.of(), r.log(), java.util.Set.of());
            assertThat(f.lostUpdatesFenced()).isZero();
            assertThat(f.lostUpdatesUnfenced()).isEqualTo(1); // B's 0 + 1 over A's 1
            assertThat(f.staleRejected()).isEqualTo(1);
            assertThat(r.processesInCriticalSection()).isEmpty();
        }
    }

    @Test
    void aReadBelowTheFenceGetsNoValueAndItsWriteHasNoFencedPart() {
        try (GuardedResource r = GuardedResource.start()) {
            r.handle("READ k B 6");
            r.handle("WRITE k B 6 1 1");
            assertThat(r.handle("READ k A 5")).isEqualTo("OK 0 -1 1");
            assertThat(r.handle("WRITE k A 5 - 2")).isEqualTo("OK 0 1");
            assertThat(r.log()).filteredOn(ResourceOp::staleRejected).hasSize(1);
        }
    }

    @Test
    void answersBadRequestsWithAnError() {
        try (GuardedResource r = GuardedResource.start()) {
            assertThat(r.handle("READ k A five")).startsWith("ERR bad number");
            assertThat(r.handle("DELETE k")).startsWith("ERR unknown request");
        }
    }
}
