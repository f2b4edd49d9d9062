package io.dlm4j.cli;

import io.dlm4j.DlmOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The options of {@code dlm4j run} as the run gets them, and which bad option is reported first. */
class RunCommandTest {

    @Test
    void defaults() {
        RunSettings s = settings("--key", "k", "--", "true");
        assertThat(s.key()).isEqualTo("k");
        assertThat(s.lock().owner()).isEqualTo(DlmOptions.processOwner());
        assertThat(s.ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.lock().autoRefresh()).isTrue();
        assertThat(s.noWait()).isFalse();
        assertThat(s.maxWait()).as("as long as it takes").isNull();
        assertThat(s.quiet()).isFalse();
        assertThat(s.killOnLoss()).isFalse();
        assertThat(s.grace()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.command()).containsExactly("true");
    }

    @Test
    void everyOption() {
        RunSettings s = settings("--uri", "memory:", "--key", "k", "--owner", "o", "--ttl", "2s", "--wait", "5m", "-q",
                "--kill-on-loss", "--grace", "1s", "--", "sh", "-c", "exit 3");
        assertThat(s.lock().owner()).isEqualTo("o");
        assertThat(s.ttl()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.noWait()).isFalse();
        assertThat(s.maxWait()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.quiet()).isTrue();
        assertThat(s.killOnLoss()).isTrue();
        assertThat(s.grace()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.command()).isEqualTo(List.of("sh", "-c", "exit 3"));
    }

    @Test
    void noWaitAndAZeroWaitBothGiveUpAtOnce() {
        RunSettings noWait = settings("--key", "k", "--no-wait", "--", "true");
        assertThat(noWait.noWait()).isTrue();
        assertThat(noWait.maxWait()).isNull();
        RunSettings zero = settings("--key", "k", "--wait", "0s", "--", "true");
        assertThat(zero.noWait()).isTrue();
        assertThat(zero.maxWait()).isEqualTo(Duration.ZERO);
    }

    @Test
    void theProgramIsCheckedFirstThenTheLock() {
        assertThatThrownBy(() -> settings("--key", "k")).isInstanceOf(ParameterException.class)
                .hasMessage("missing program: dlm4j run --uri URI --key KEY [options] -- PROGRAM [ARGS...]");
        assertThatThrownBy(() -> settings("--key", "k", "--ttl", "0s", "--", "no-such-program-dlm4j"))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(127));
        assertThatThrownBy(() -> settings("--key", "k", "--ttl", "0s", "--", "true"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("ttl must be positive");
    }

    private static RunSettings settings(String... args) {
        RunCommand command = new RunCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }
}
