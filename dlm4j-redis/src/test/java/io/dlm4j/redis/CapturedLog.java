package io.dlm4j.redis;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What slf4j-simple (the tests' logging backend) writes to {@code System.err} while it is open,
 * still passed on to the real stream. slf4j-simple looks {@code System.err} up at each line, so
 * replacing the stream is enough. JUnit runs this module's tests one at a time; a test that must not see
 * another's late lines filters them by the server's address.
 */
final class CapturedLog implements AutoCloseable {

    private final PrintStream original;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    private CapturedLog() {
        original = System.err;
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                original.write(b);
                captured.write(b);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                original.write(bytes, offset, length);
                captured.write(bytes, offset, length);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    static CapturedLog start() {
        return new CapturedLog();
    }

    /** The lines logged at {@code level} (WARN, INFO, DEBUG...) by the logger of {@code source}. */
    List<String> lines(String level, Class<?> source) {
        return lines(level, source.getName());
    }

    /** The lines logged at {@code level} by the logger named {@code loggerName}. */
    List<String> lines(String level, String loggerName) {
        String marker = " " + level + " " + loggerName + " - ";
        return Arrays.stream(captured.toString(StandardCharsets.UTF_8).split("\n"))
                .filter(line -> line.contains(marker)).toList();
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
