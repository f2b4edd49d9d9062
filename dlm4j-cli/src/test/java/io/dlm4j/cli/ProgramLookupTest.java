package io.dlm4j.cli;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProgramLookupTest {

    @TempDir
    Path dir;

    private Path bin;
    private Path other;

    @BeforeEach
    void programs() throws IOException {
        bin = Files.createDirectory(dir.resolve("bin"));
        other = Files.createDirectory(dir.resolve("other"));
        program(bin.resolve("tool"), "rwxr-xr-x");
        program(bin.resolve("plain"), "rw-r--r--");
        program(other.resolve("plain"), "rwxr-xr-x");
        Files.createDirectory(bin.resolve("folder"));
    }

    @Test
    void aNameIsLookedUpOnPath() {
        assertThatCode(() -> ProgramLookup.check("tool", bin.toString())).doesNotThrowAnyException();
        assertThatCode(() -> ProgramLookup.check("plain", bin + File.pathSeparator + other))
                .as("an executable one later on PATH").doesNotThrowAnyException();
        assertFails(() -> ProgramLookup.check("plain", bin.toString()), 126, "program 'plain' is not executable");
        assertFails(() -> ProgramLookup.check("folder", bin.toString()), 127, "program 'folder' not found on PATH");
        assertFails(() -> ProgramLookup.check("tool", other.toString()), 127, "program 'tool' not found on PATH");
        assertFails(() -> ProgramLookup.check("tool", null), 127, "program 'tool' not found on PATH");
        assertFails(() -> ProgramLookup.check("", bin.toString()), 127, "program '' not found");
    }

    @Test
    void aNameWithASlashIsAPath() {
        assertThatCode(() -> ProgramLookup.check(bin.resolve("tool").toString(), "")).doesNotThrowAnyException();
        assertFails(() -> ProgramLookup.check(bin.resolve("plain").toString(), ""), 126,
                "program '" + bin.resolve("plain") + "' is not executable");
        assertFails(() -> ProgramLookup.check(bin.resolve("folder").toString(), ""), 126,
                "program '" + bin.resolve("folder") + "' is not executable");
        assertFails(() -> ProgramLookup.check(bin.resolve("gone").toString(), bin.toString()), 127,
                "program '" + bin.resolve("gone") + "' not found");
    }

    private static void program(Path path, String permissions) throws IOException {
        Files.writeString(path, "#!/bin/sh\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    }

    private static void assertFails(ThrowingCallable check, int exitCode, String message) {
        assertThatThrownBy(check)
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(exitCode))
                .hasMessage(message);
    }
}
