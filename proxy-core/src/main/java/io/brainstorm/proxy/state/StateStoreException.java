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

    /** @param retryAfterSeconds when a client should try again */
    public StateStoreException(String message, @Nullable Throwable cause, long retryAfterSeconds) {
        super(message, cause);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** When a client refused because of this should try again, in seconds. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
