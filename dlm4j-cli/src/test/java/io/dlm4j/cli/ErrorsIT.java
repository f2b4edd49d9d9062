package io.dlm4j.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input and an unreachable backend: one line on stderr, the documented exit code, no stack trace. */
class ErrorsIT {

    @TempDir
    Path dir;

    private Cli cli;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
    }

    /** Exactly one line on stderr, starting with "dlm4j: ", containing {@code text}; nothing on stdout. */
    private static void assertOneLineError(Cli.Result r, int exit, String text) {
        assertThat(r.exit()).as(r.toString()).isEqualTo(exit);
        assertThat(r.err()).as(r.toString()).startsWith("dlm4j: ").contains(text).endsWith("\n");
        assertThat(r.err().strip().lines().count()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).as(r.toString()).doesNotContain("\tat ", "Exception in thread");
        assertThat(r.out()).as(r.toString()).isEmpty();
    }

    @Test
    void missingUri() {
        assertOneLineError(cli.run("status", "--key", "k"), 2, "missing --uri (or the environment variable DLM4J_URI)");
        assertOneLineError(cli.run("run", "--key", "k", "--", "true"), 2, "missing --uri");
    }

    @Test
    void uriFromTheEnvironment() {
        Cli.Result r = new Cli(dir, Map.of("DLM4J_URI", "memory:")).run("status", "--key", "k");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("k: free\n");
    }

    @Test
    void unknownScheme() {
        assertOneLineError(cli.run("status", "--uri", "foo://somewhere", "--key", "k"), 2,
                "uri scheme 'foo' is unknown");
        assertOneLineError(cli.run("run", "--uri", "jdbc:sqlserver://db/app", "--key", "k", "--", "true"), 2,
                "uri scheme 'jdbc:sqlserver' is unknown");
    }

    @Test
    void badDuration() {
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--ttl", "3x", "--", "true"), 2,
                "Invalid value for option '--ttl': '3x' is not a duration");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--wait", "5", "--", "true"), 2,
                "'5' is not a duration");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--ttl", "0s", "--", "true"), 2,
                "ttl must be positive");
    }

    @Test
    void badUsage() {
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--wait", "1s", "--no-wait", "--", "true"),
                2, "mutually exclusive");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--", "true"), 2, "Missing required option: '--key=KEY'");
        assertOneLineError(cli.run("unlock", "--uri", "memory:", "--key", "k"), 2, "--owner");
        assertOneLineError(cli.run("lock"), 2, "Unmatched argument");
        assertOneLineError(cli.run(), 2, "missing command");
    }

    @Test
    void missingProgram() {
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k"), 2, "missing program");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--", "no-such-program-dlm4j"), 127,
                "program 'no-such-program-dlm4j' not found on PATH");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--", "./missing.sh"), 127,
                "program './missing.sh' not found");
    }

    @Test
    void programNotExecutable() throws IOException {
        Files.writeString(dir.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        assertOneLineError(cli.run("run", "--uri", "memory:", "--key", "k", "--", "./script.sh"), 126,
                "program './script.sh' is not executable");
    }

    @Test
    void programWithoutDoubleDash() {
        Cli.Result r = cli.run("run", "--uri", "memory:", "--key", "k", "sh", "-c", "echo $DLM4J_KEY; exit 5");
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.out()).isEqualTo("k\n");
    }

    @Test
    void unreachableBackend() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort(); // free once closed: nothing listens there
        }
        String uri = "redis://127.0.0.1:" + port;
        assertOneLineError(cli.run("ping", "--uri", uri, "--timeout", "2s"), 69, "backend unavailable: Redis at 127.0.0.1:" + port);
        assertOneLineError(cli.run("run", "--uri", uri, "--timeout", "2s", "--key", "k", "--", "true"), 69,
                "backend unavailable");
        assertOneLineError(cli.run("status", "--uri", "etcd://127.0.0.1:" + port, "--timeout", "1s", "--key", "k"), 69,
                "backend unavailable: etcd at 127.0.0.1:" + port);

        Cli.Result json = cli.run("ping", "--uri", uri, "--timeout", "2s", "--json");
        assertThat(json.exit()).as(json.toString()).isEqualTo(69);
        assertThat(json.out()).matches("\\{\"uri\":\"redis://127.0.0.1:" + port + "\",\"ok\":false,\"error\":\"[^\\n]+\"}\\n");
        assertThat(json.err()).isEmpty();
    }

    @Test
    void verboseShowsTheStackTrace() {
        Cli.Result r = cli.run("--verbose", "status", "--uri", "foo://x", "--key", "k");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("dlm4j: uri scheme 'foo' is unknown").contains("\tat ");
    }

    @Test
    void helpListsTheExitCodes() {
        Cli.Result r = cli.run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Exit codes:", "69", "75", "127", "run", "status", "unlock", "ping", "demo");
        Cli.Result run = cli.run("run", "--help");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("--kill-on-loss", "--no-wait", "Exit codes:");
    }
}
