package io.brainstorm.proxy.state;

import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link CellStore} in one Chronicle Map file: String keys, fixed-length {@code long[]} values.
 * Every change runs under the entry's segment update lock taken through {@code queryContext}, which
 * is shared with every process that maps the same file, so read-modify-write is atomic across
 * processes. ({@code acquireUsing} with in-place atomic adds loses updates here; it is not used.)
 *
 * <p><b>Errors:</b> a full map throws {@link StateStoreException} naming the file and its size.
 */
final class ChronicleCellStore implements CellStore<String>, AutoCloseable {
    private final ChronicleMap<String, long[]> map;
    private final Path file;
    private final int length;
    private final long entries;
    private final ThreadLocal<long[]> buffer;

    private ChronicleCellStore(ChronicleMap<String, long[]> map, Path file, int length, long entries) {
        this.map = map;
        this.file = file;
        this.length = length;
        this.entries = entries;
        this.buffer = ThreadLocal.withInitial(() -> new long[length]);
    }

    /**
     * Opens {@code file}, creating it when absent (concurrent creation by two processes is safe:
     * Chronicle locks the file while it writes the header).
     *
     * @param averageKey a typical key, for the map's sizing
     * @param entries    how many keys it must hold; it may grow to 4× that before it is full
     */
    static ChronicleCellStore open(Path file, String name, int length, long entries, String averageKey) throws IOException {
        LongsMarshaller marshaller = new LongsMarshaller(length);
        ChronicleMap<String, long[]> map = ChronicleMapBuilder.of(String.class, long[].class)
                .name(name)
                .entries(entries)
                .maxBloatFactor(4)
                .averageKey(averageKey)
                .valueMarshallers(marshaller, marshaller)
                .constantValueSizeBySample(new long[length])
                .createPersistedTo(file.toFile());
        return new ChronicleCellStore(map, file, length, entries);
    }

    @Override
    public long update(String key, Op op) {
        long[] c = buffer.get();
        try (ExternalMapQueryContext<String, long[], ?> q = map.queryContext(key)) {
            q.updateLock().lock();
            MapEntry<String, long[]> e = q.entry();
            if (e != null) {
                e.value().getUsing(c);
            } else {
                java.util.Arrays.fill(c, 0);
            }
            long result = op.apply(c);
            if (e != null) {
                Data<long[]> d = q.wrapValueAsData(c);
                q.replaceValue(e, d);
            } else if (!HeapCellStore.isZero(c)) {
                try {
                    q.insert(q.absentEntry(), q.wrapValueAsData(c));
                } catch (IllegalStateException full) {
                    throw new StateStoreException(file + " is full: " + map.size() + " keys (sized for "
                            + entries + ", may grow 4x; expected: fewer keys, or a larger map)", full);
                }
            }
            return result;
        }
    }

    @Override
    public boolean read(String key, long[] into) {
        try (ExternalMapQueryContext<String, long[], ?> q = map.queryContext(key)) {
            q.readLock().lock();
            MapEntry<String, long[]> e = q.entry();
            if (e == null) {
                return false;
            }
            e.value().getUsing(into);
            return true;
        }
    }

    @Override
    public void updateAll(Op op) {
        List<String> keys = new ArrayList<>(map.keySet());
        for (String key : keys) {
            try (ExternalMapQueryContext<String, long[], ?> q = map.queryContext(key)) {
                q.updateLock().lock();
                MapEntry<String, long[]> e = q.entry();
                if (e != null) {
                    long[] c = e.value().getUsing(new long[length]);
                    if (op.apply(c) != 0) {
                        q.replaceValue(e, q.wrapValueAsData(c));
                    }
                }
            }
        }
    }

    @Override
    public void forEach(java.util.function.BiConsumer<String, long[]> action) {
        for (String key : new ArrayList<>(map.keySet())) {
            long[] copy = new long[length];
            if (read(key, copy)) {
                action.accept(key, copy);
            }
        }
    }

    Path file() {
        return file;
    }

    @Override
    public void close() {
        map.close();
    }
}
