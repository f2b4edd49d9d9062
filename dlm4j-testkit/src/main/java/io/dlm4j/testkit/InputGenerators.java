package io.dlm4j.testkit;

import java.text.Normalizer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * Random inputs for {@link InputPropertySuite}: keys and owners of every kind of character and
 * of every length up to the limits (and just past them), durations on both sides of zero, and
 * pairs of keys that a store could confuse.
 */
public final class InputGenerators {

    /** What {@link String#isBlank()} counts as white space, so what a blank owner is made of. */
    static final int[] WHITESPACE = {' ', '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F,
            0x1680, 0x2000, 0x2001, 0x2006, 0x2008, 0x200A, 0x2028, 0x2029, 0x205F, 0x3000};

    /** Characters that mean something to some store, query language, wire format or escaping. */
    static final int[] SPECIAL = ("$.{}[]()'\"`\\/:*?%_#@!&|^~=<>,; \n\r\t"
            + "\u0000"       // NUL: the end of a C string
            + "\u007F"       // DEL
            + "\u0301"       // a combining accent: "e\u0301" and "é" are different keys
            + "\u00A0"       // no-break space: not white space to String.isBlank
            + "\uFEFF"       // byte order mark
            + "\uFFFD"       // the replacement character
            + "\uFFFF"       // a noncharacter
            + "\uD83D\uDD12" // a supplementary character (two chars in Java)
            + "\uDBFF\uDFFF" // the last code point
    ).codePoints().toArray();

    /** Ways to turn a key into a neighbour a careless store could mistake for it. */
    static final List<UnaryOperator<String>> NEIGHBOURS = List.of(
            k -> k + ":fence",
            k -> k + "}:fence",
            k -> k + "}",
            k -> "{" + k + "}",
            k -> k.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}"),
            k -> k.replace("}", "\\)"),
            k -> k.replace("\\", "\\\\"),
            k -> k + "\\",
            k -> k + "\u0000",
            k -> k + " ",
            k -> k + ".",
            k -> "$" + k,
            k -> k + "*",
            InputGenerators::withoutLastCodePoint,
            k -> "released:" + k,
            k -> "dlm4j:" + k,
            k -> k.toUpperCase(Locale.ROOT),
            k -> Normalizer.normalize(k, Normalizer.Form.NFD),
            k -> Normalizer.normalize(k, Normalizer.Form.NFKC));

    /** Pairs that are hand-picked collisions of the escaping schemes the stores use. */
    static final List<List<String>> KNOWN_NEIGHBOURS = List.of(
            List.of("a{b}", "a\\{b\\}"), List.of("a}", "a\\)"), List.of("a\\)", "a\\\\)"), List.of("a}", "a\\}"),
            List.of("k", "k:fence"), List.of("k}:fence", "k"), List.of("ab", "a"), List.of("x", "x\u0000"),
            List.of("é", "e\u0301"), List.of("ß", "SS"), List.of("\uFFFD", "?"));

    /** Ways to turn an owner into a different owner that a careless store could mistake for it. */
    static final List<UnaryOperator<String>> OTHER_OWNERS = List.of(
            o -> o + "x",
            o -> o + " ",
            o -> o + "\u0000",
            o -> o + ":",
            o -> ":" + o,
            o -> "1:" + o,
            o -> o.toUpperCase(Locale.ROOT),
            o -> o.toLowerCase(Locale.ROOT),
            o -> Normalizer.normalize(o, Normalizer.Form.NFD),
            InputGenerators::withoutLastCodePoint);

    private InputGenerators() {
    }

    /** One code point of any kind but a surrogate half (see NOTES.md on lone surrogates). */
    public static int codePoint(Random random) {
        int kind = random.nextInt(14);
        if (kind < 4) {
            return 0x20 + random.nextInt(0x7F - 0x20);                     // printable ASCII
        }
        if (kind < 8) {
            return SPECIAL[random.nextInt(SPECIAL.length)];
        }
        if (kind < 9) {
            return random.nextInt(0x20);                                   // control characters
        }
        if (kind < 11) {
            return 0x80 + random.nextInt(0xD800 - 0x80);                   // the BMP below the surrogates
        }
        if (kind < 12) {
            return 0xE000 + random.nextInt(0x10000 - 0xE000);              // the BMP above them
        }
        return 0x10000 + random.nextInt(0x110000 - 0x10000);               // supplementary planes
    }

    /** A length from {@code min} to {@code max}: mostly short, often exactly at either limit. */
    static int length(Random random, int min, int max) {
        int kind = random.nextInt(12);
        if (kind < 6) {
            return min + random.nextInt(Math.min(max, min + 24) - min + 1);
        }
        if (kind < 9) {
            return min + random.nextInt(max - min + 1);
        }
        return kind < 10 ? min : max;
    }

    static String codePoints(Random random, int min, int max) {
        int length = length(random, min, max);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.appendCodePoint(codePoint(random));
        }
        return text.toString();
    }

    /** 1 to 512 characters (code points) of any kind. */
    public static String validKey(Random random) {
        return codePoints(random, 1, 512);
    }

    /** 513 to 600 characters. */
    public static String tooLongKey(Random random) {
        return codePoints(random, 513, 600);
    }

    /** 1 to 256 characters of any kind, not all white space. */
    public static String validOwner(Random random) {
        String owner;
        do {
            owner = codePoints(random, 1, 256);
        } while (owner.isBlank());
        return owner;
    }

    /** 257 to 300 characters. */
    public static String tooLongOwner(Random random) {
        return codePoints(random, 257, 300);
    }

    /** 1 to 256 white-space characters. */
    public static String blankOwner(Random random) {
        int length = length(random, 1, 256);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.appendCodePoint(WHITESPACE[random.nextInt(WHITESPACE.length)]);
        }
        return text.toString();
    }

    /** Zero or negative, from a nanosecond to centuries. */
    public static Duration notPositive(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> Duration.ZERO;
            case 1 -> Duration.ofNanos(-1 - random.nextInt(1_000_000));
            case 2 -> Duration.ofMillis(-1 - random.nextInt(60_000));
            default -> Duration.ofSeconds(-1 - (random.nextLong() >>> 24));
        };
    }

    /** Negative, from a nanosecond to centuries. */
    public static Duration negative(Random random) {
        Duration duration;
        do {
            duration = notPositive(random);
        } while (duration.isZero());
        return duration;
    }

    /** A nanosecond to a year: a store must round such a ttl, never refuse it or end a hold early. */
    public static Duration validTtl(Random random) {
        return switch (random.nextInt(3)) {
            case 0 -> Duration.ofNanos(1 + random.nextInt(2_000_000));
            case 1 -> Duration.ofMillis(1 + random.nextInt(60_000));
            default -> Duration.ofSeconds(1 + random.nextInt(365 * 24 * 3600));
        };
    }

    /** Zero (one try), up to 50 ms, or the longest waits there are (which a free lock must not mind). */
    public static Duration maxWait(Random random) {
        return switch (random.nextInt(6)) {
            case 0, 1 -> Duration.ZERO;
            case 2 -> Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);
            case 3 -> Duration.ofDays(365L * (1 + random.nextInt(10_000)));
            default -> Duration.ofNanos(1 + random.nextInt(50_000_000));
        };
    }

    /** Two different valid keys that a store building its names carelessly could confuse. */
    public static List<String> neighbourKeys(Random random) {
        while (true) {
            List<String> pair = switch (random.nextInt(4)) {
                case 0 -> KNOWN_NEIGHBOURS.get(random.nextInt(KNOWN_NEIGHBOURS.size()));
                case 1 -> List.of(validKey(random), validKey(random));
                default -> {
                    String key = random.nextBoolean() ? codePoints(random, 1, 500)
                            : KNOWN_NEIGHBOURS.get(random.nextInt(KNOWN_NEIGHBOURS.size())).get(random.nextInt(2));
                    yield List.of(key, NEIGHBOURS.get(random.nextInt(NEIGHBOURS.size())).apply(key));
                }
            };
            int length = length(pair.get(1));
            if (!pair.get(0).equals(pair.get(1)) && length >= 1 && length <= 512) {
                return random.nextBoolean() ? pair : List.of(pair.get(1), pair.get(0));
            }
        }
    }

    /** An owner and a different owner that a careless store could mistake for it. */
    public static List<String> differentOwners(Random random) {
        while (true) {
            String owner = validOwner(random);
            String other = OTHER_OWNERS.get(random.nextInt(OTHER_OWNERS.size())).apply(owner);
            int length = length(other);
            if (!other.equals(owner) && length >= 1 && length <= 256 && !other.isBlank()) {
                return List.of(owner, other);
            }
        }
    }

    /**
     * A short key with an unpaired surrogate in it, and its lookalikes: the same with {@code '?'}
     * and with U+FFFD where the surrogate was, which is what UTF-8 encoders put in its place.
     */
    public static List<String> unpairedSurrogateAndLookalikes(Random random) {
        String before = codePoints(random, 1, 8);
        String after = random.nextBoolean() ? "" : codePoints(random, 1, 8);
        char surrogate = (char) (random.nextBoolean() ? 0xD800 + random.nextInt(0x400) : 0xDC00 + random.nextInt(0x400));
        return List.of(before + surrogate + after, before + "?" + after, before + "\uFFFD" + after);
    }

    static int length(String text) {
        return text.codePointCount(0, text.length());
    }

    static String withoutLastCodePoint(String text) {
        return text.isEmpty() ? text : text.substring(0, text.offsetByCodePoints(0, length(text) - 1));
    }

    /** The text with everything but printable ASCII as {@code \\u{hex}}, and its length. */
    public static String printable(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') {
                out.appendCodePoint(c);
            } else {
                out.append(String.format("\\u{%X}", c));
            }
        });
        return out.append("\" (").append(length(text)).append(" characters)").toString();
    }

    /** A pair of strings, each {@link #printable}. */
    public static String printable(List<String> texts) {
        return texts.stream().map(InputGenerators::printable).toList().toString();
    }
}
