package io.brainstorm.proxy.state;

import java.util.concurrent.ConcurrentHashMap;

/** {@link CellStore} on the heap: a {@link ConcurrentHashMap} whose {@code compute} is the entry lock. */
final class HeapCellStore<K> implements CellStore<K> {
    private final int length;
    private final ConcurrentHashMap<K, long[]> cells = new ConcurrentHashMap<>();

    HeapCellStore(int length) {
        this.length = length;
    }

    @Override
    public long update(K key, Op op) {
        long[] result = new long[1];
        cells.compute(key, (k, old) -> {
            long[] c = old != null ? old : new long[length];
            result[0] = op.apply(c);
            return old == null && isZero(c) ? null : c;
        });
        return result[0];
    }

    @Override
    public boolean read(K key, long[] into) {
        boolean[] found = new boolean[1];
        // compute, not get: another thread may be changing the array in place under the bin lock
        cells.computeIfPresent(key, (k, c) -> {
            System.arraycopy(c, 0, into, 0, length);
            found[0] = true;
            return c;
        });
        return found[0];
    }

    @Override
    public void updateAll(Op op) {
        for (K key : cells.keySet()) {
            cells.computeIfPresent(key, (k, c) -> {
                op.apply(c);
                return c;
            });
        }
    }

    @Override
    public void forEach(java.util.function.BiConsumer<K, long[]> action) {
        for (K key : cells.keySet()) {
            long[] copy = new long[length];
            if (read(key, copy)) {
                action.accept(key, copy);
            }
        }
    }

    static boolean isZero(long[] c) {
        for (long v : c) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
