package io.brainstorm.proxy.relay;

/**
 * Thrown by {@link SseEventSplitter} when one Server-Sent Event grows past the configured limit.
 * The splitter has released everything it held by the time this is thrown; the stream it was
 * splitting should be abandoned.
 */
public final class SseEventTooLongException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int maxEventBytes;

    public SseEventTooLongException(long eventBytes, int maxEventBytes) {
        super("SSE event: " + eventBytes + " bytes so far (expected: <= " + maxEventBytes + ")");
        this.maxEventBytes = maxEventBytes;
    }

    /** The limit that was exceeded, in bytes. */
    public int maxEventBytes() {
        return maxEventBytes;
    }
}
