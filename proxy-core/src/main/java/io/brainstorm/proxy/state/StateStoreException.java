package io.brainstorm.proxy.state;

import org.jspecify.annotations.Nullable;

/**
 * The state store cannot do what was asked: a map is full, or an entry has no room for another
 * owner process. The request path answers 503 for it; it never means a budget was exceeded.
 */
public final class StateStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The {@code Retry-After} of the 503 a request gets for it. */
    private final long retryAfterSeconds;

    public StateStoreException(String message) {
        this(message, null, 5);
    }

    public StateStoreException(String message, Throwable cause) {
        this(message, cause, 5);
    }

    /** Whether the store has logged this kind of failure itself (at most once a minute), so callers need not. */
    private final boolean reported;

    /** @param retryAfterSeconds when a client should try again */
    public StateStoreException(String message, @Nullable Throwable cause, long retryAfterSeconds) {
        this(message, cause, retryAfterSeconds, false);
    }

    /**
     * @param retryAfterSeconds when a client should try again
     * @param reported          the store logs these itself (a Redis outage: one line a minute), so a
     *                          caller does not log each one
     */
    public StateStoreException(String message, @Nullable Throwable cause, long retryAfterSeconds, boolean reported) {
        super(message, cause);
        this.retryAfterSeconds = retryAfterSeconds;
        this.reported = reported;
    }

    /** Whether the store has logged this failure (or its kind) already. */
    public boolean reported() {
        return reported;
    }

    /** When a client refused because of this should try again, in seconds. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
