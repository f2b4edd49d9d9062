package io.dlm4j.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ProcessStopperTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, UTF_8);
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void aProgramThatExitsOnSigtermGetsNoSigkill() throws IOException {
        Process p = start(": > \"$0\"; exec sleep 60");
        new ProcessStopper(Duration.ofSeconds(10), err, () -> true).stop(p);
        assertThat(p.exitValue()).isEqualTo(143);
        assertThat(errBytes.toString(UTF_8)).isEmpty();
    }

    @Test
    void aProgramThatIgnoresSigtermGetsSigkillAfterTheGrace() throws IOException {
        Process p = start("trap '' TERM; : > \"$0\"; while :; do sleep 0.05; done");
        new ProcessStopper(Duration.ofMillis(200), err, () -> true).stop(p);
        assertThat(p.exitValue()).isEqualTo(137);
        assertThat(errBytes.toString(UTF_8))
                .isEqualTo("dlm4j: the program did not exit within 200ms of SIGTERM; sending SIGKILL\n");
    }

    @Test
    void theSigkillCanGoUnsaid() throws IOException {
        Process p = start("trap '' TERM; : > \"$0\"; while :; do sleep 0.05; done");
        new ProcessStopper(Duration.ofMillis(200), err, () -> false).stop(p);
        assertThat(p.exitValue()).isEqualTo(137);
        assertThat(errBytes.toString(UTF_8)).isEmpty();
    }

    @Test
    void anEndedProgramIsLeftAlone() throws Exception {
        Process p = new ProcessBuilder("true").start();
        started.add(p);
        p.waitFor();
        new ProcessStopper(Duration.ofMillis(200), err, () -> true).stop(p);
        assertThat(p.exitValue()).isZero();
        assertThat(errBytes.toString(UTF_8)).isEmpty();
    }

    /** A shell script that has created its file (so has set its traps) by the time this returns. */
    private Process start(String script) throws IOException {
        Path ready = dir.resolve("ready-" + started.size());
        Process p = new ProcessBuilder("sh", "-c", script, ready.toString()).start();
        started.add(p);
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(ready));
        return p;
    }
}
