package io.dlm4j.torture;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one-line JSON objects of the histories and the resource log: flat, with string, integer,
 * boolean and null values. Hand-written so that the workers start with no JSON library on their
 * class path to load.
 */
final class FlatJson {

    private FlatJson() {
    }

    static String write(Map<String, ?> fields) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, ?> e : fields.entrySet()) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            quote(sb, e.getKey());
            sb.append(':');
            Object v = e.getValue();
            if (v == null || v instanceof Number || v instanceof Boolean) {
                sb.append(v);
            } else {
                quote(sb, v.toString());
            }
        }
        return sb.append('}').toString();
    }

    /**
     * Parses one object; values come back as String, Long, Boolean or null.
     *
     * @throws IllegalArgumentException if the line is not such an object (a worker killed in the
     *                                  middle of a line leaves one behind)
     */
    static Map<String, Object> read(String line) {
        Map<String, Object> out = new LinkedHashMap<>();
        int[] pos = {skip(line, 0)};
        expect(line, pos, '{');
        if (peek(line, pos) == '}') {
            pos[0]++;
            return out;
        }
        while (true) {
            String key = string(line, pos);
            expect(line, pos, ':');
            out.put(key, value(line, pos));
            char c = peek(line, pos);
            pos[0]++;
            if (c == '}') {
                return out;
            }
            if (c != ',') {
                throw new IllegalArgumentException("line is not a flat JSON object: " + line);
            }
        }
    }

    private static Object value(String s, int[] pos) {
        char c = peek(s, pos);
        if (c == '"') {
            return string(s, pos);
        }
        int start = pos[0];
        while (pos[0] < s.length() && ",} ".indexOf(s.charAt(pos[0])) < 0) {
            pos[0]++;
        }
        String word = s.substring(start, pos[0]);
        switch (word) {
            case "null":
                return null;
            case "true":
                return Boolean.TRUE;
            case "false":
                return Boolean.FALSE;
            default:
                try {
                    return Long.parseLong(word);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line has a value that is not an integer: " + s, e);
                }
        }
    }

    private static String string(String s, int[] pos) {
        expect(s, pos, '"');
        StringBuilder sb = new StringBuilder();
        while (pos[0] < s.length()) {
            char c = s.charAt(pos[0]++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\' && pos[0] < s.length()) {
                char e = s.charAt(pos[0]++);
                if (e == 'u' && pos[0] + 4 <= s.length()) {
                    sb.append((char) Integer.parseInt(s.substring(pos[0], pos[0] + 4), 16));
                    pos[0] += 4;
                } else {
                    sb.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                }
            } else {
                sb.append(c);
            }
        }
        throw new IllegalArgumentException("line ends inside a string: " + s);
    }

    private static void expect(String s, int[] pos, char c) {
        if (peek(s, pos) != c) {
            throw new IllegalArgumentException("line is not a flat JSON object (expected '" + c + "'): " + s);
        }
        pos[0]++;
    }

    private static char peek(String s, int[] pos) {
        pos[0] = skip(s, pos[0]);
        if (pos[0] >= s.length()) {
            throw new IllegalArgumentException("line ends too early: " + s);
        }
        return s.charAt(pos[0]);
    }

    private static int skip(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
