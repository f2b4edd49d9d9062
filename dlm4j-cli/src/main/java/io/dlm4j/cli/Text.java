package io.dlm4j.cli;

import io.dlm4j.spi.Redacted;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Formatting for people and for JSON. */
final class Text {

    private static final String MASK = "***";
    /** The credentials of the URIs of this run, hidden in every message ({@link #oneLine}, {@link #scrub}). */
    private static final List<String> SECRETS = new CopyOnWriteArrayList<>();

    private Text() {
    }

    /**
     * Hides the credentials of {@code uri} in every message from now on: drivers put what they could
     * not parse in their messages (MariaDB Connector/J shows "bob:pw@host" as a bad port, HikariCP a
     * user:password@ it had no driver for), which no redaction of the URI alone can catch.
     */
    static void hideSecretsOf(String uri) {
        for (String secret : secretsIn(uri)) {
            if (!SECRETS.contains(secret)) {
                SECRETS.add(secret);
            }
        }
        // the longest first, so that a secret holding another one is hidden whole
        SECRETS.sort(Comparator.comparingInt(String::length).reversed());
    }

    /** The passwords in a URI ({@link Redacted#secretsIn}). */
    static Set<String> secretsIn(String uri) {
        return Redacted.secretsIn(uri);
    }

    /** {@code text} with every credential of the URIs of this run ({@link #hideSecretsOf}) as {@code ***}. */
    static String scrub(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String secret : SECRETS) {
            out = out.replace(secret, MASK);
        }
        return out;
    }

    /** A string as a JSON string literal, quotes included. */
    static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)
                            && !validSurrogateAt(s, i)) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** Milliseconds from now until {@code at}, never negative. */
    static long millisUntil(Instant at) {
        return Math.max(0, Duration.between(Instant.now(), at).toMillis());
    }

    /** A remaining time, rounded up to whole seconds from one second on: "450 ms", "12 s", "4 min 5 s", "2 h 3 min". */
    static String remaining(long millis) {
        if (millis <= 0) {
            return "0 s";
        }
        if (millis < 1000) {
            return millis + " ms";
        }
        long seconds = (millis + 999) / 1000;
        if (seconds < 120) {
            return seconds + " s";
        }
        if (seconds < 7200) {
            return seconds / 60 + " min " + seconds % 60 + " s";
        }
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
    }

    /** A duration as given on the command line would be: "500ms", "30s", "5m", "1h30m". */
    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long s = ms / 1000 % 60;
        long rest = ms % 1000;
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (m > 0) {
            sb.append(m).append('m');
        }
        if (s > 0) {
            sb.append(s).append('s');
        }
        if (rest > 0) {
            sb.append(rest).append("ms");
        }
        return sb.toString();
    }

    /** Milliseconds with up to three decimals, for round trips: "0.412", "12". */
    static String millis(Duration d) {
        double ms = d.toNanos() / 1e6;
        String s = String.format(Locale.ROOT, "%.3f", ms);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /** The first line of a message, with following lines joined: error messages stay one line. */
    static String oneLine(String message) {
        if (message == null) {
            return "";
        }
        return scrub(message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " "));
    }

    /** A URI with its passwords hidden, for output: {@link Redacted#uri}, then every secret of this run. */
    static String redact(String uri) {
        return scrub(Redacted.uri(uri));
    }
}
