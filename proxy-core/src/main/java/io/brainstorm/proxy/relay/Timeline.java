package io.brainstorm.proxy.relay;

import java.util.function.LongSupplier;

/**
 * When things happened to one request, like Zuul's passport: its arrival, the current attempt's
 * start and end, and the first content event the client got. The latencies that the routing state,
 * the strategies and the completion record see are all read from here.
 *
 * <p>Times are nanoseconds of one clock ({@link System#nanoTime()} in production, the arrival
 * included); a test gives its own.
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class Timeline {
    private final LongSupplier clock;
    private final long arrivalNanos;
    private long attemptStartNanos;
    /** When the current attempt's answer was complete, for a verdict given later; 0 until then. */
    private long attemptEndNanos;
    /** When the first content event left for the client, or -1. */
    private long firstEventNanos = -1;
    /** From the current attempt's start to its first content event, or -1. */
    private long ttftNanos = -1;

    /** @param arrivalNanos when the whole request had been read, on {@code clock} */
    Timeline(LongSupplier clock, long arrivalNanos) {
        this.clock = clock;
        this.arrivalNanos = arrivalNanos;
    }

    long now() {
        return clock.getAsLong();
    }

    /** An attempt starts: its duration and time to first token count from now. */
    void attemptStarted() {
        attemptStartNanos = now();
        attemptEndNanos = 0;
        ttftNanos = -1;
    }

    /** The attempt's answer is complete; its verdict may come later. */
    void attemptEnded() {
        attemptEndNanos = now();
    }

    /** A content event left for the client: the first one marks the time to first token. */
    void contentRelayed() {
        if (ttftNanos < 0) {
            firstEventNanos = now();
            ttftNanos = firstEventNanos - attemptStartNanos;
        }
    }

    /** The current attempt's duration so far. */
    long attemptMicros() {
        return (now() - attemptStartNanos) / 1000;
    }

    /** The current attempt's duration to its end (when the answer was complete), else so far. */
    long attemptMicrosToEnd() {
        return ((attemptEndNanos != 0 ? attemptEndNanos : now()) - attemptStartNanos) / 1000;
    }

    /** The current attempt's time to its first content event, or -1. */
    long ttftMicros() {
        return ttftNanos < 0 ? -1 : ttftNanos / 1000;
    }

    /** The request's duration from its arrival until now. */
    long latencyMicros() {
        return (now() - arrivalNanos) / 1000;
    }

    /** From the request's arrival to the first content event the client got, or -1. */
    long firstEventMicros() {
        return firstEventNanos < 0 ? -1 : (firstEventNanos - arrivalNanos) / 1000;
    }
}
