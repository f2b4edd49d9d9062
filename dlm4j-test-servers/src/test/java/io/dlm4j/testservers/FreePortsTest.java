package io.dlm4j.testservers;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The ports the launchers give their servers. */
class FreePortsTest {

    /** An etcd cluster of three needs six ports at once: none may repeat, each must be bindable. */
    @Test
    void distinctPortsThatCanBeBoundRightAway() throws Exception {
        int[] ports = ChildProcesses.FreePorts.pick(6);

        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(6);
        for (int port : ports) {
            assertThat(port).isPositive();
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(ChildProcesses.FreePorts.HOST), port));
                assertThat(socket.getLocalPort()).isEqualTo(port);
            }
        }
    }
}
