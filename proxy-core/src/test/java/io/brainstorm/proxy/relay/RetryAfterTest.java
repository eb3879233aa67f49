package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
    private static final long NOW =
            ZonedDateTime.parse("2026-11-26T12:00:00Z").toInstant().toEpochMilli();

    @Test
    void secondsAndHttpDates() {
        assertEquals(30_000, RetryAfter.millis("30", NOW));
        assertEquals(0, RetryAfter.millis("0", NOW));
        assertEquals(90_000, RetryAfter.millis("Thu, 26 Nov 2026 12:01:30 GMT", NOW));
        assertEquals(0, RetryAfter.millis("Thu, 26 Nov 2026 11:00:00 GMT", NOW), "a date in the past: now");
    }

    @Test
    void absentOrUnreadableIsMinusOne() {
        assertEquals(-1, RetryAfter.millis(null, NOW));
        assertEquals(-1, RetryAfter.millis("", NOW));
        assertEquals(-1, RetryAfter.millis("soon", NOW));
        assertEquals(-1, RetryAfter.millis("1.5", NOW));
        assertEquals(-1, RetryAfter.millis("99999999999999999999", NOW));
    }
}
