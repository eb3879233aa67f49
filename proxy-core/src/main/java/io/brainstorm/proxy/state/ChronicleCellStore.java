package io.brainstorm.proxy.state;

import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.bytes.RandomDataOutput;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * {@link CellStore} in one Chronicle Map file: UTF-8 keys, fixed-length {@code long[]} values.
 * Every change runs under the entry's segment update lock taken through {@code queryContext}; the
 * lock word lives in the mapped file, so read-modify-write is atomic across processes.
 * ({@code acquireUsing} with in-place atomic adds loses updates here; it is not used.)
 *
 * <p>An existing entry is changed in place: its longs are read from the mapped bytes, the
 * operation runs on a per-thread copy, and only the longs it changed are written back under the
 * write lock. That keeps reserve + settle well under a microsecond; a full
 * serialise-and-replace per update cost four times as much.
 *
 * <p><b>Errors:</b> a full map throws {@link StateStoreException} naming the file and its size.
 */
final class ChronicleCellStore implements CellStore<String>, AutoCloseable {
    private final ChronicleMap<byte[], long[]> map;
    private final Path file;
    private final int length;
    private final long entries;
    private final ThreadLocal<long[][]> buffers;

    private ChronicleCellStore(ChronicleMap<byte[], long[]> map, Path file, int length, long entries) {
        this.map = map;
        this.file = file;
        this.length = length;
        this.entries = entries;
        this.buffers = ThreadLocal.withInitial(() -> new long[][] {new long[length], new long[length]});
    }

    /**
     * Opens {@code file}, creating it when absent (two processes creating it at once is safe:
     * Chronicle locks the file while it writes the header).
     *
     * @param averageKey a typical key, for the map's sizing
     * @param entries    how many keys it must hold; it may grow to 4× that before it is full
     */
    static ChronicleCellStore open(Path file, String name, int length, long entries, String averageKey) throws IOException {
        LongsMarshaller marshaller = new LongsMarshaller(length);
        ChronicleMap<byte[], long[]> map = ChronicleMapBuilder.of(byte[].class, long[].class)
                .name(name)
                .entries(entries)
                .maxBloatFactor(4)
                .averageKey(averageKey.getBytes(StandardCharsets.UTF_8))
                .valueMarshallers(marshaller, marshaller)
                .constantValueSizeBySample(new long[length])
                .createPersistedTo(file.toFile());
        return new ChronicleCellStore(map, file, length, entries);
    }

    @Override
    public long update(String key, Op op) {
        long[][] b = buffers.get();
        long[] c = b[0];
        long[] before = b[1];
        try (ExternalMapQueryContext<byte[], long[], ?> q = map.queryContext(key.getBytes(StandardCharsets.UTF_8))) {
            q.updateLock().lock();
            MapEntry<byte[], long[]> e = q.entry();
            if (e == null) {
                Arrays.fill(c, 0);
                long result = op.apply(c);
                if (!HeapCellStore.isZero(c)) {
                    insert(q, c);
                }
                return result;
            }
            Data<long[]> v = e.value();
            RandomDataInput in = v.bytes();
            long off = v.offset();
            for (int i = 0; i < length; i++) {
                c[i] = in.readLong(off + 8L * i);
            }
            System.arraycopy(c, 0, before, 0, length);
            long result = op.apply(c);
            write(q, e, in, off, c, before);
            return result;
        }
    }

    private void write(ExternalMapQueryContext<byte[], long[], ?> q, MapEntry<byte[], long[]> e,
                       RandomDataInput in, long off, long[] c, long[] before) {
        if (Arrays.equals(c, before)) {
            return;
        }
        if (in instanceof RandomDataOutput<?> out) {
            q.writeLock().lock();
            for (int i = 0; i < length; i++) {
                if (c[i] != before[i]) {
                    out.writeLong(off + 8L * i, c[i]);
                }
            }
        } else {
            q.replaceValue(e, q.wrapValueAsData(c));
        }
    }

    private void insert(ExternalMapQueryContext<byte[], long[], ?> q, long[] c) {
        try {
            q.insert(q.absentEntry(), q.wrapValueAsData(c));
        } catch (IllegalStateException full) {
            throw new StateStoreException(file + " is full: " + map.size() + " keys (sized for " + entries
                    + ", may grow 4x; expected: fewer keys, or a larger map)", full);
        }
    }

    @Override
    public boolean read(String key, long[] into) {
        try (ExternalMapQueryContext<byte[], long[], ?> q = map.queryContext(key.getBytes(StandardCharsets.UTF_8))) {
            q.readLock().lock();
            MapEntry<byte[], long[]> e = q.entry();
            if (e == null) {
                return false;
            }
            Data<long[]> v = e.value();
            RandomDataInput in = v.bytes();
            long off = v.offset();
            for (int i = 0; i < length; i++) {
                into[i] = in.readLong(off + 8L * i);
            }
            return true;
        }
    }

    @Override
    public void updateAll(Op op) {
        for (String key : keys()) {
            long[] c = new long[length];
            long[] before = new long[length];
            try (ExternalMapQueryContext<byte[], long[], ?> q = map.queryContext(key.getBytes(StandardCharsets.UTF_8))) {
                q.updateLock().lock();
                MapEntry<byte[], long[]> e = q.entry();
                if (e != null) {
                    Data<long[]> v = e.value();
                    v.getUsing(c);
                    System.arraycopy(c, 0, before, 0, length);
                    if (op.apply(c) != 0) {
                        write(q, e, v.bytes(), v.offset(), c, before);
                    }
                }
            }
        }
    }

    @Override
    public void forEach(BiConsumer<String, long[]> action) {
        for (String key : keys()) {
            long[] copy = new long[length];
            if (read(key, copy)) {
                action.accept(key, copy);
            }
        }
    }

    private List<String> keys() {
        List<String> keys = new ArrayList<>();
        for (byte[] k : map.keySet()) {
            keys.add(new String(k, StandardCharsets.UTF_8));
        }
        return keys;
    }

    Path file() {
        return file;
    }

    @Override
    public void close() {
        map.close();
    }
}
