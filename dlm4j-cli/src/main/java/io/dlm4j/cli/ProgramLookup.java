package io.dlm4j.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds {@code dlm4j run}'s program as the shell would (a name with a slash as a path, any other
 * name on PATH), before the lock is taken: a program that cannot start should not take the lock
 * from someone who can use it.
 */
final class ProgramLookup {

    private ProgramLookup() {
    }

    /** Returns if the program can be run; else 127 if it is not found, 126 if it cannot be executed. */
    static void check(String program) {
        check(program, System.getenv("PATH"));
    }

    static void check(String program, String pathVariable) {
        if (program.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "program '' not found");
        }
        if (program.contains("/")) {
            Path path = Path.of(program);
            if (!Files.exists(path)) {
                throw new CliException(ExitCodes.NOT_FOUND, "program '" + program + "' not found");
            }
            if (Files.isDirectory(path) || !Files.isExecutable(path)) {
                throw notExecutable(program);
            }
            return;
        }
        boolean foundButNotExecutable = false;
        for (String dir : (pathVariable == null ? "" : pathVariable).split(File.pathSeparator, -1)) {
            // an empty entry of PATH means the current directory, as in sh
            Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(program);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return;
                }
                foundButNotExecutable = true;
            }
        }
        if (foundButNotExecutable) {
            throw notExecutable(program);
        }
        throw new CliException(ExitCodes.NOT_FOUND, "program '" + program + "' not found on PATH");
    }

    private static CliException notExecutable(String program) {
        return new CliException(ExitCodes.CANNOT_EXECUTE, "program '" + program + "' is not executable");
    }
}
