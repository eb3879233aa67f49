package io.brainstorm.proxy.state;

/**
 * The state store cannot do what was asked: a map is full, or an entry has no room for another
 * owner process. The request path answers 503 for it; it never means a budget was exceeded.
 */
public final class StateStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StateStoreException(String message) {
        super(message);
    }

    public StateStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
