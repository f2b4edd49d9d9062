package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** H2 in a file: holds and tokens outlive the Dlm and the database's process, as on a server. */
class H2FileTest {

    private static DlmOptions options(String owner) {
        return DlmOptions.builder().defaultOwner(owner).defaultTtl(Duration.ofSeconds(30)).build();
    }

    @Test
    void holdsAndTokensOutliveTheDlmThatMadeThem(@TempDir Path folder) throws Exception {
        String url = "jdbc:h2:file:" + folder.resolve("locks");
        long first;
        try (Dlm dlm = Dlms.fromUri(url, options("a"))) {
            Lease lease = dlm.newMutex("k").tryLock().orElseThrow();
            first = lease.fencingToken();
            dlm.newMutex("released").tryLock().orElseThrow().close();
        } // the close releases the held lease
        assertThat(Files.list(folder)).as("the database's files").isNotEmpty();

        try (Dlm dlm = Dlms.fromUri(url, options("b"))) {
            try (Lease lease = dlm.newMutex("k").tryLock().orElseThrow()) {
                assertThat(lease.fencingToken()).as("token after the database was closed and opened").isGreaterThan(first);
            }
            try (Dlm holder = Dlms.fromUri(url, options("c"))) {
                holder.newMutex("held").tryLock().orElseThrow();
                LockInfo seen = dlm.newMutex("held").holder().orElseThrow();
                assertThat(seen.owner()).isEqualTo("c");
            }
        }
    }
}
