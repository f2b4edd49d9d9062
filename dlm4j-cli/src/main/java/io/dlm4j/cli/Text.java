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
    /** Parameters whose value is a credential, in any driver's spelling (MySQL's password1-3: multi-factor). */
    private static final Set<String> SECRET_PARAMETERS = Set.of("password", "password1", "password2", "password3",
            "pass", "pwd", "secret", "token", "sslpassword", "keystorepassword", "truststorepassword",
            "clientcertificatekeystorepassword");
    /** {@code ?k=v}, {@code &k=v}, {@code ;k=v} (H2's settings). */
    private static final Pattern PARAMETER = Pattern.compile("[?&;]([^=&;?#]+)=([^&;#]*)");
    /** MySQL Connector/J's key-value hosts: {@code (host=h,user=u,password=p)}, {@code address=(password=p)}. */
    private static final Pattern KEY_VALUE = Pattern.compile("[(,]\\s*([^=(),\\s]+)\\s*=\\s*([^,)]*)");
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

    /** The passwords in a URI: of its user part and of its credential parameters, as written and decoded. */
    static Set<String> secretsIn(String uri) {
        Set<String> secrets = new LinkedHashSet<>();
        if (uri == null) {
            return secrets;
        }
        int authority = uri.indexOf("://");
        if (authority >= 0) {
            // as Redacted reads it: the user part ends at the last '@' before the query
            int start = authority + 3;
            int query = indexOfAny(uri.substring(start), '?', '#') + start;
            int at = uri.lastIndexOf('@', query - 1);
            if (at >= start) {
                String userInfo = uri.substring(start, at);
                int colon = userInfo.indexOf(':');
                addSecret(secrets, colon < 0 ? userInfo : userInfo.substring(colon + 1));
            }
        }
        for (Pattern pattern : List.of(PARAMETER, KEY_VALUE)) {
            Matcher matcher = pattern.matcher(uri);
            while (matcher.find()) {
                if (SECRET_PARAMETERS.contains(matcher.group(1).strip().toLowerCase(Locale.ROOT))) {
                    addSecret(secrets, matcher.group(2).strip());
                }
            }
        }
        return secrets;
    }

    private static void addSecret(Set<String> secrets, String secret) {
        if (secret.isEmpty()) {
            return;
        }
        secrets.add(secret);
        try {
            String decoded = URLDecoder.decode(secret, StandardCharsets.UTF_8);
            if (!decoded.isEmpty()) {
                secrets.add(decoded);
            }
        } catch (IllegalArgumentException e) {
            // not percent-encoded: the secret as written is all there is
        }
    }

    private static int indexOfAny(String text, char... chars) {
        int first = text.length();
        for (char c : chars) {
            int i = text.indexOf(c);
            if (i >= 0 && i < first) {
                first = i;
            }
        }
        return first;
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

    /**
     * A URI with its passwords hidden, for output: {@link Redacted#uri}, and also the forms it does
     * not know (MySQL's {@code (host=h,password=p)} hosts, {@code password1}-{@code password3}).
     */
    static String redact(String uri) {
        String shown = Redacted.uri(uri);
        if (shown == null) {
            return null;
        }
        List<String> secrets = new java.util.ArrayList<>(secretsIn(uri));
        secrets.sort(Comparator.comparingInt(String::length).reversed());
        for (String secret : secrets) {
            shown = shown.replace(secret, MASK);
        }
        return scrub(shown);
    }
}
