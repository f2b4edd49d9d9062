package io.dlm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code dlm4j demo} on its embedded MongoDB wire server. */
class DemoIT {

    @TempDir
    Path dir;

    @Test
    void oneInstanceRunsTheMigrationAndTheOthersSkipIt() {
        long start = System.nanoTime();
        Cli.Result r = new Cli(dir).start("demo").await(Duration.ofMinutes(1));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(took).isLessThan(Duration.ofMinutes(1));
        assertThat(r.out().lines().filter(l -> l.matches(" *\\d+\\.\\d+ s  pod-\\d\\s+runs migration .*")).count())
                .as(r.out()).isEqualTo(1);
        assertThat(r.out().lines().filter(l -> l.contains(" skips: already applied by pod-")).count())
                .as(r.out()).isEqualTo(4);
        assertThat(r.out().lines().filter(l -> l.contains(" waits: held by pod-")).count())
                .as(r.out()).isGreaterThanOrEqualTo(1);
        assertThat(r.out().lines().filter(l -> l.contains("released the lock and serves traffic")).count())
                .as(r.out()).isEqualTo(5);
        assertThat(r.err()).isEmpty();
    }
}
