package io.dlm4j.spi;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
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
    /** Parameters whose value is a credential, in any driver's spelling (MySQL's password1-3: multi-factor). */
    private static final Set<String> SECRET_PARAMETERS = Set.of("password", "password1", "password2", "password3",
            "pass", "pwd", "secret", "token", "sslpassword", "keystorepassword", "truststorepassword",
            "clientcertificatekeystorepassword");
    private static final Pattern PARAMETER = Pattern.compile("([?&;])([^=&;?#]+)=([^&;#]*)");
    /** MySQL Connector/J's key-value hosts: {@code (host=h,user=u,password=p)}, {@code address=(password=p)}. */
    private static final Pattern KEY_VALUE = Pattern.compile("[(,]\\s*([^=(),\\s]+)\\s*=\\s*([^,)]*)");

    private Redacted() {
    }

    /** {@code uri} with every credential replaced by {@code ***}; null stays null. */
    public static String uri(String uri) {
        if (uri == null) {
            return null;
        }
        return keyValues(parameters(userInfo(uri)));
    }

    private static String keyValues(String uri) {
        Matcher matcher = KEY_VALUE.matcher(uri);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            boolean secret = SECRET_PARAMETERS.contains(matcher.group(1).strip().toLowerCase(Locale.ROOT));
            String replacement = secret ? matcher.group().substring(0, matcher.start(2) - matcher.start()) + MASK
                    : matcher.group();
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    /**
     * The passwords in a URI, as written and percent-decoded: of its user part, of its credential
     * parameters and of MySQL's key-value hosts. Drivers repeat parts of a URI they could not parse
     * in their messages (MariaDB Connector/J shows "bob:pw@host" as a bad port), so whoever made a
     * client from a URI hides these in every message it passes on ({@link #hide}).
     */
    public static Set<String> secretsIn(String uri) {
        Set<String> secrets = new LinkedHashSet<>();
        if (uri == null) {
            return secrets;
        }
        int authority = uri.indexOf("://");
        if (authority >= 0) {
            int start = authority + 3;
            int query = indexOfAny(uri, start, '?', '#');
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
                int name = pattern == PARAMETER ? 2 : 1;
                if (SECRET_PARAMETERS.contains(matcher.group(name).strip().toLowerCase(Locale.ROOT))) {
                    addSecret(secrets, matcher.group(name + 1).strip());
                }
            }
        }
        return secrets;
    }

    /** {@code text} with each of {@code secrets} replaced by {@code ***}, the longest first; null stays null. */
    public static String hide(String text, Collection<String> secrets) {
        if (text == null || secrets.isEmpty()) {
            return text;
        }
        List<String> longestFirst = new ArrayList<>(secrets);
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        String shown = text;
        for (String secret : longestFirst) {
            if (!secret.isEmpty() && !secret.equals(MASK)) {
                shown = shown.replace(secret, MASK);
            }
        }
        return shown;
    }

    private static void addSecret(Set<String> secrets, String secret) {
        if (secret.isEmpty() || secret.equals(MASK)) {
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
