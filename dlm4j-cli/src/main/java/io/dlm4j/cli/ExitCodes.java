package io.dlm4j.cli;

/** The exit codes of {@code dlm4j}; the BSD sysexits names where one fits. */
final class ExitCodes {

    static final int OK = 0;
    /** {@code unlock}: the lock is still held by the owner afterwards. */
    static final int FAILURE = 1;
    /** Bad usage or input: a missing or bad option, an unknown scheme, a bad duration, no program. */
    static final int USAGE = 2;
    /** EX_UNAVAILABLE: the backend could not be reached or failed. */
    static final int UNAVAILABLE = 69;
    /** EX_SOFTWARE: a bug in dlm4j. */
    static final int SOFTWARE = 70;
    /** EX_TEMPFAIL: the lock was not acquired within --wait, or at once with --no-wait. */
    static final int NOT_ACQUIRED = 75;
    /** The program exists but cannot be run, as in a shell. */
    static final int CANNOT_EXECUTE = 126;
    /** The program was not found, as in a shell. */
    static final int NOT_FOUND = 127;

    private ExitCodes() {
    }
}
