package io.dlm4j.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commands on an H2 file database shared by the separate dlm4j processes of each test. H2 lets
 * one process open a file database; with {@code AUTO_SERVER=TRUE} the first one serves it to the
 * others over loopback TCP, and another takes over when it exits (without it, a second process
 * fails with "Database may be already in use": JdbcIT). {@code WRITE_DELAY=0}: H2 otherwise writes
 * commits to the file in the background, and a holder killed right after it acquired once left no
 * trace of its hold here, so that the next one got the same fencing token.
 */
class H2FileIT extends BackendIT {

    @Override
    String uri() {
        return "jdbc:h2:file:" + dir.resolve("locks") + ";AUTO_SERVER=TRUE;WRITE_DELAY=0";
    }

    /**
     * Not on H2 files: with several processes taking turns, the file's server moves from process to
     * process, and under load the next one fails to open the file ("Lock file recently modified",
     * exit 69; seen in two of three fresh-clone runs at once). That is H2's hand-over, not the lock:
     * README says to use an H2 server, PostgreSQL or MariaDB for contended locking between processes.
     */
    @Override
    @Test
    void programsOfProcessesOnOneKeyNeverOverlap_andWaitersSayWhoHoldsTheLock() {
        Assumptions.abort("H2's AUTO_SERVER hand-over between exiting processes fails under load; see README");
    }

    /**
     * As on every backend, except the release: when the process that serves the file gets SIGTERM,
     * H2's own shutdown hook may close the database before dlm4j's releases the lock. dlm4j then says
     * so, and the lock stays until its ttl; README says it.
     */
    @Override
    @Test
    void sigtermStopsTheProgramAndReleasesTheLockAtOnce() {
        Cli.Started holder = cli.start("run", "--uri", uri(), "--key", key, "--owner", "terminated", "--grace", "5s",
                "--ttl", "30s", "--", "sh", "-c", "echo $$ > pid; exec sleep 60");
        try {
            awaitFile("pid", holder);
            long programPid = Long.parseLong(readFile("pid").strip());

            holder.process.destroy(); // SIGTERM to dlm4j
            Cli.Result r = holder.await(Duration.ofSeconds(20));
            assertThat(r.exit()).as(r.toString()).isEqualTo(143);
            assertThat(ProcessHandle.of(programPid).map(ProcessHandle::isAlive).orElse(false))
                    .as("the program got SIGTERM and was reaped by dlm4j").isFalse();
            assertThat(r.err()).doesNotContain("Exception");

            Cli.Result status = cli.run("status", "--uri", uri(), "--key", key);
            if (!status.out().equals(key + ": free\n")) {
                // H2 words it "Database is already closed" or "The database has been closed", by where its hook got to
                assertThat(r.err()).as(r.toString()).contains("dlm4j: could not release '" + key + "' (it expires within 30s)")
                        .containsPattern("(?i)database (is already|has been) closed");
                assertThat(status.out()).startsWith(key + ": held by terminated, token ");
            }
        } finally {
            holder.kill();
        }
    }
}
