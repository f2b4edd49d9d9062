package io.dlm4j.cli;

import io.dlm4j.Dlm;

/** Small helpers of the commands. */
final class Commands {

    private Commands() {
    }

    /** Closes a Dlm; a failure to close after the work is done is not the command's failure. */
    static void closeQuietly(Dlm dlm) {
        if (dlm == null) {
            return;
        }
        try {
            dlm.close();
        } catch (RuntimeException e) {
            if (Dlm4jCommand.verbose()) {
                System.err.println("dlm4j: closing the backend client failed: " + Text.oneLine(e.getMessage()));
            }
        }
    }
}
