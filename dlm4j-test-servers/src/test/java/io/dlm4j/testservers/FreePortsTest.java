package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The ports the launchers give their servers. */
class FreePortsTest {

    /** A cluster of three etcd members takes six ports at once: none may repeat. */
    @Test
    void portsPickedTogetherAreDistinct() {
        int[] ports = ChildProcesses.FreePorts.pick(6);

        assertThat(ports).hasSize(6);
        for (int port : ports) {
            assertThat(port).isBetween(1, 65535);
        }
        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(6);
    }
}
