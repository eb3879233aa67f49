package io.brainstorm.proxy.state;

/**
 * Fixed-length {@code long[]} entries updated atomically under a per-entry lock: the one thing the
 * ledgers and rate windows need from a store, on the heap or in Chronicle Map files.
 *
 * <p>Only this process's own threads see the heap one; processes sharing a state directory see the
 * Chronicle one.
 */
interface CellStore<K> {

    /**
     * Runs {@code op} on the entry of {@code key} (all zeros when absent) under the entry's lock and
     * stores what it left, unless the entry was absent and stays all zeros.
     *
     * @return what {@code op} returned
     */
    long update(K key, Op op);

    /** Copies the entry of {@code key} into {@code into}; false (and {@code into} untouched) when absent. */
    boolean read(K key, long[] into);

    /** Runs {@code op} on every entry in turn, each under its lock, storing what it left when it returns non-zero. */
    void updateAll(Op op);

    /** Calls {@code action} with a copy of every entry: for read-outs, not the request path. */
    void forEach(java.util.function.BiConsumer<K, long[]> action);

    @FunctionalInterface
    interface Op {
        long apply(long[] cell);
    }
}
