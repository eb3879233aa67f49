package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The latencies a {@link Timeline} reports, from arrival and from each attempt's start, on a clock the test sets. */
class TimelineTest {
    private long now = 1_000_000;
    private final Timeline timeline = new Timeline(() -> now, now);

    @Test
    void timeToFirstTokenCountsFromTheAttemptAndTheFirstEventFromArrival() {
        now += 2_000_000;
        timeline.attemptStarted();
        assertEquals(-1, timeline.ttftMicros());
        assertEquals(-1, timeline.firstEventMicros());
        now += 5_000_000;
        timeline.contentRelayed();
        now += 1_000_000;
        timeline.contentRelayed();

        assertEquals(5_000, timeline.ttftMicros(), "the first event, not the last");
        assertEquals(7_000, timeline.firstEventMicros());
        assertEquals(8_000, timeline.latencyMicros());
        assertEquals(6_000, timeline.attemptMicros());
    }

    @Test
    void aVerdictGivenLaterUsesTheAttemptsEnd() {
        timeline.attemptStarted();
        now += 3_000_000;
        timeline.attemptEnded();
        now += 40_000_000;
        assertEquals(3_000, timeline.attemptMicrosToEnd(), "the scorer's time is not the endpoint's");
        assertEquals(43_000, timeline.attemptMicros());
    }

    @Test
    void aNewAttemptStartsItsOwnClock() {
        timeline.attemptStarted();
        now += 3_000_000;
        timeline.attemptEnded();
        timeline.attemptStarted();
        now += 1_000_000;
        assertEquals(1_000, timeline.attemptMicrosToEnd());
        assertEquals(-1, timeline.ttftMicros());
    }
}
