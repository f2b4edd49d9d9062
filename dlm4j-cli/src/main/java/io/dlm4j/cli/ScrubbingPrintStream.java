package io.dlm4j.cli;

import java.io.PrintStream;

/**
 * System.out and System.err of the command: every string printed through them goes through
 * {@link Text#scrub}, so a credential of the uri stays hidden also in what the libraries print
 * themselves (slf4j-simple's warnings with --verbose, a stack trace). The program that {@code run}
 * starts writes to the inherited file descriptors, not through these.
 */
final class ScrubbingPrintStream extends PrintStream {

    /** Encodes as the JVM's default charset does, as System.out does when not on a console. */
    ScrubbingPrintStream(PrintStream out) {
        super(out, true);
    }

    /** println(String), println(Object), print(Object), printf, format and append all come here. */
    @Override
    public void print(String s) {
        super.print(Text.scrub(s));
    }

    @Override
    public void println(String s) {
        synchronized (this) {
            print(s);
            println();
        }
    }

    @Override
    public void println(Object o) {
        println(String.valueOf(o));
    }

    @Override
    public void print(Object o) {
        print(String.valueOf(o));
    }

    static void install() {
        if (!(System.out instanceof ScrubbingPrintStream)) {
            System.setOut(new ScrubbingPrintStream(System.out));
        }
        if (!(System.err instanceof ScrubbingPrintStream)) {
            System.setErr(new ScrubbingPrintStream(System.err));
        }
    }
}
