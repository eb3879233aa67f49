package io.brainstorm.proxy.state;

/**
 * Fixed-length {@code long[]} entries updated atomically under a per-entry lock: the one thing the
 * ledgers and rate windows need from a store, on the heap, in Chronicle Map files or in Redis.
 *
 * <p>Only this process's own threads see the heap one; processes sharing a state directory see the
 * Chronicle one; gateways sharing a Redis see the Redis one ({@code state.redis.RedisCellStore},
 * public for that reason).
 */
public interface CellStore<K> {

    /**
     * Runs {@code op} on the entry of {@code key} (all zeros when absent) under the entry's lock and
     * stores what it left, unless the entry was absent and stays all zeros.
     *
     * @return what {@code op} returned
     */
    long update(K key, Op op);

    /**
     * {@link #update(Object, Op)} as one attempt of a write that may be tried again: a store that
     * cannot always tell whether a failed write landed (one across a network) throws
     * {@link StoreUnavailableException}, and a later call with the same {@code writeId} (and the
     * same {@code op}) for the same key applies it at most once in all. Local stores ignore the id.
     *
     * @param writeId the same for every attempt of one write, different for every write
     */
    default long update(K key, long writeId, Op op) {
        return update(key, op);
    }

    /** Copies the entry of {@code key} into {@code into}; false (and {@code into} untouched) when absent. */
    boolean read(K key, long[] into);

    /** Runs {@code op} on every entry in turn, each under its lock, storing what it left when it returns non-zero. */
    void updateAll(Op op);

    /** Calls {@code action} with a copy of every entry: for read-outs, not the request path. */
    void forEach(java.util.function.BiConsumer<K, long[]> action);

    /** A change of one entry, in place; it may run more than once for one update, on a fresh copy each time. */
    @FunctionalInterface
    interface Op {
        long apply(long[] cell);
    }
}
