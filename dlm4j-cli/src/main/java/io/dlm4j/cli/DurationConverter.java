package io.dlm4j.cli;

import picocli.CommandLine;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}, combinations such as
 * {@code 1m30s}, fractions such as {@code 1.5s}, and ISO-8601 ({@code PT30S}). Never negative.
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");
    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** @throws CommandLine.TypeConversionException with a one-line reason */
    public static Duration parse(String value) {
        String text = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        Duration result;
        if (text.startsWith("p")) {
            try {
                result = Duration.parse(text.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw bad(value);
            }
        } else if (WHOLE.matcher(text).matches()) {
            result = Duration.ZERO;
            Matcher m = PART.matcher(text);
            while (m.find()) {
                BigDecimal amount = new BigDecimal(m.group(1));
                long nanosPerUnit = switch (m.group(2)) {
                    case "ms" -> 1_000_000L;
                    case "s" -> 1_000_000_000L;
                    case "m" -> 60_000_000_000L;
                    case "h" -> 3_600_000_000_000L;
                    default -> 86_400_000_000_000L;
                };
                try {
                    result = result.plusNanos(amount.multiply(BigDecimal.valueOf(nanosPerUnit)).longValueExact());
                } catch (ArithmeticException e) {
                    throw new CommandLine.TypeConversionException("'" + value + "' is too long a duration");
                }
            }
        } else {
            throw bad(value);
        }
        if (result.isNegative()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is negative; a duration must not be");
        }
        return result;
    }

    private static CommandLine.TypeConversionException bad(String value) {
        return new CommandLine.TypeConversionException("'" + value
                + "' is not a duration: use a number and a unit, such as 500ms, 30s, 5m or 1h (or ISO-8601 such as PT30S)");
    }
}
