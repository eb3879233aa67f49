package io.brainstorm.proxy.state;

/**
 * A store shared over the network (Redis) could not be asked, or did not answer in time: the write
 * may or may not have landed, and {@link CellStore#update(Object, long, CellStore.Op)} with the
 * same write id resolves which when tried again. The caller keeps what it wanted to write and
 * tries again later; unlike {@link StateStoreException}, nothing is given up.
 */
public final class StoreUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message) {
        super(message);
    }

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
