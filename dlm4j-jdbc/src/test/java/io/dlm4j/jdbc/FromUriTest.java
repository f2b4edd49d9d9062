package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.LockBackendException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@code Dlms.fromUri} with JDBC URLs: what it refuses, and what its failures never show. */
class FromUriTest {

    private static final DlmOptions QUICK = DlmOptions.builder().defaultOwner("a")
            .operationTimeout(Duration.ofMillis(800)).build();

    @Test
    void anUnnamedInMemoryH2DatabaseIsRefused() {
        assertThatThrownBy(() -> Dlms.fromUri("jdbc:h2:mem:", QUICK)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a database name");
        assertThatThrownBy(() -> Dlms.fromUri("jdbc:h2:mem:;PASSWORD=x", QUICK)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a database name").hasMessageNotContaining("=x");
    }

    @Test
    void aNamedInMemoryH2DatabaseIsSharedByThePoolsConnections() throws Exception {
        try (Dlm first = Dlms.fromUri("jdbc:h2:mem:shared-" + UUID.randomUUID(), QUICK)) {
            first.newMutex("k").tryLock().orElseThrow();
            assertThat(first.newMutex(io.dlm4j.MutexOptions.builder("k").owner("b").build()).tryLock())
                    .as("another owner, through another connection of the pool").isEmpty();
        }
    }

    @Test
    void aPasswordThatADriverRepeatsInItsMessageIsHidden() {
        String secret = "pw-" + UUID.randomUUID();
        // MariaDB Connector/J reads "bob:<secret>@127.0.0.1:1" as a host and port, and says so
        try (Dlm dlm = Dlms.fromUri("jdbc:mariadb://bob:" + secret + "@127.0.0.1:1/app", QUICK)) {
            Throwable thrown = catchThrowable(() -> dlm.newMutex("k").tryLock());
            assertThat(thrown).isInstanceOf(LockBackendException.class);
            for (Throwable t = thrown; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).as("message of %s", t.getClass().getName()).doesNotContain(secret);
                assertThat(t.toString()).doesNotContain(secret);
            }
            assertThat(dlm.toString()).doesNotContain(secret);
        }
    }
}
