package io.dlm4j.spi;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Backend URIs as messages may show them: without their credentials. A password in the user
 * part ({@code scheme://user:password@host}, or {@code scheme://secret@host}, which Redis reads as
 * a password alone) and the values of parameters that carry one ({@code ?password=},
 * {@code ;password=} in JDBC URLs) become {@code ***}; the user name and everything else stay, so
 * the message still says where it went.
 */
public final class Redacted {

    private static final String MASK = "***";
    private static final Set<String> SECRET_PARAMETERS = Set.of("password", "pass", "pwd", "secret", "token",
            "sslpassword", "keystorepassword", "truststorepassword", "clientcertificatekeystorepassword");
    private static final Pattern PARAMETER = Pattern.compile("([?&;])([^=&;?#]+)=([^&;#]*)");

    private Redacted() {
    }

    /** {@code uri} with every credential replaced by {@code ***}; null stays null. */
    public static String uri(String uri) {
        if (uri == null) {
            return null;
        }
        return parameters(userInfo(uri));
    }

    private static String userInfo(String uri) {
        int authority = uri.indexOf("://");
        if (authority < 0) {
            return uri;
        }
        int start = authority + 3;
        int query = indexOfAny(uri, start, '?', '#');
        // hosts never hold '@', a password may (unencoded): the user part ends at the last one
        int at = uri.lastIndexOf('@', query - 1);
        if (at < start) {
            return uri;
        }
        String userInfo = uri.substring(start, at);
        int colon = userInfo.indexOf(':');
        String shown = colon < 0 ? MASK : userInfo.substring(0, colon) + ":" + MASK;
        return uri.substring(0, start) + shown + uri.substring(at);
    }

    private static String parameters(String uri) {
        Matcher matcher = PARAMETER.matcher(uri);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            boolean secret = SECRET_PARAMETERS.contains(matcher.group(2).toLowerCase(Locale.ROOT));
            String replacement = matcher.group(1) + matcher.group(2) + "=" + (secret ? MASK : matcher.group(3));
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private static int indexOfAny(String text, int from, char... chars) {
        int first = text.length();
        for (char c : chars) {
            int i = text.indexOf(c, from);
            if (i >= 0 && i < first) {
                first = i;
            }
        }
        return first;
    }
}
