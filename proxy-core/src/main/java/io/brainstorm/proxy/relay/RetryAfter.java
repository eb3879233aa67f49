package io.brainstorm.proxy.relay;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/** Reads an HTTP {@code Retry-After} value: delay seconds or an HTTP date (RFC 9110 §10.2.3). */
final class RetryAfter {
    private RetryAfter() {}

    /**
     * A delay given in whole milliseconds (Azure OpenAI's {@code retry-after-ms}), or -1 when the
     * header is absent or not a non-negative integer.
     */
    static long milliseconds(@Nullable String value) {
        if (value == null) {
            return -1;
        }
        String v = value.trim();
        if (v.isEmpty() || !Character.isDigit(v.charAt(0))) {
            return -1;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The delay in milliseconds, 0 for a date in the past, or -1 when the header is absent or
     * unreadable.
     *
     * @param nowMillis wall-clock now, for an HTTP date
     */
    static long millis(@Nullable String value, long nowMillis) {
        if (value == null) {
            return -1;
        }
        String v = value.trim();
        if (v.isEmpty()) {
            return -1;
        }
        if (Character.isDigit(v.charAt(0))) {
            try {
                long seconds = Long.parseLong(v);
                return seconds > Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : seconds * 1000;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        try {
            long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant()
                    .toEpochMilli();
            return Math.max(0, at - nowMillis);
        } catch (DateTimeParseException e) {
            return -1;
        }
    }
}
