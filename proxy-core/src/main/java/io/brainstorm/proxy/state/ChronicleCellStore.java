package io.brainstorm.proxy.state;

import static net.openhft.chronicle.core.UnsafeMemory.MEMORY;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import net.openhft.chronicle.algo.hashing.LongHashFunction;
import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.bytes.RandomDataOutput;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;
import org.jspecify.annotations.Nullable;

/**
 * {@link CellStore} in one Chronicle Map file with fixed-length {@code long[]} values. Every change
 * runs under the entry's segment update lock taken through {@code queryContext}; the lock word
 * lives in the mapped file, so read-modify-write is atomic across processes. ({@code acquireUsing}
 * with in-place atomic adds loses updates here; it is not used.)
 *
 * <p>Two kinds of keys:
 * <ul>
 *   <li>{@link #hashed}: the map key is the 64-bit xxHash of the key's UTF-8 bytes, and the
 *       value's first long a second, independent 64-bit hash (murmur3) checked on every access:
 *       a key whose xxHash collides with another's is refused with {@link StateStoreException}
 *       instead of sharing its entry (only a collision of both hashes, about 2^-128 per pair,
 *       would go unnoticed). A {@code Long} key is found in about 260 ns here against 400 ns for a
 *       string key; the budget and rate maps, which the request path touches, use it. Their keys
 *       cannot be listed.</li>
 *   <li>{@link #named}: the key's UTF-8 bytes, listable: the learning map.</li>
 * </ul>
 *
 * <p>An existing entry is changed in place: its longs are read from the mapped bytes, the
 * operation runs on a per-thread copy, and only the longs it changed are written back under the
 * write lock (no serialise-and-replace of the whole value).
 *
 * <p><b>Errors:</b> a full map throws {@link StateStoreException} naming the file and its size.
 */
final class ChronicleCellStore<M> implements CellStore<String>, AutoCloseable {
    private static final LongHashFunction KEY_HASH = LongHashFunction.xx_r39();
    private static final LongHashFunction CHECK_HASH = LongHashFunction.murmur_3();

    private final ChronicleMap<M, long[]> map;
    private final Function<byte[], M> keyOf;
    private final @Nullable Function<M, String> nameOf;
    private final boolean checked;
    private final Path file;
    private final int length;
    private final int stored;
    private final long entries;
    private final ThreadLocal<long[][]> buffers;

    private ChronicleCellStore(
            ChronicleMap<M, long[]> map,
            Function<byte[], M> keyOf,
            @Nullable Function<M, String> nameOf,
            boolean checked,
            Path file,
            int length,
            long entries) {
        this.map = map;
        this.keyOf = keyOf;
        this.nameOf = nameOf;
        this.checked = checked;
        this.file = file;
        this.length = length;
        this.stored = checked ? length + 1 : length;
        this.entries = entries;
        this.buffers = ThreadLocal.withInitial(() -> new long[][] {new long[length], new long[length]});
    }

    /**
     * Opens {@code file} with hashed keys, creating it when absent (two processes creating it at
     * once is safe: Chronicle locks the file while it writes the header).
     *
     * @param entries how many keys it must hold; it may grow to 4× that before it is full
     */
    static ChronicleCellStore<Long> hashed(Path file, String name, int length, long entries) throws IOException {
        LongsMarshaller marshaller = new LongsMarshaller(length + 1);
        ChronicleMap<Long, long[]> map = ChronicleMapBuilder.of(Long.class, long[].class)
                .name(name)
                .entries(entries)
                .maxBloatFactor(4)
                .valueMarshallers(marshaller, marshaller)
                .constantValueSizeBySample(new long[length + 1])
                .createPersistedTo(file.toFile());
        return new ChronicleCellStore<>(map, KEY_HASH::hashBytes, null, true, file, length, entries);
    }

    /**
     * Opens {@code file} with UTF-8 keys, creating it when absent.
     *
     * @param averageKey a typical key, for the map's sizing
     */
    static ChronicleCellStore<byte[]> named(Path file, String name, int length, long entries, String averageKey)
            throws IOException {
        LongsMarshaller marshaller = new LongsMarshaller(length);
        ChronicleMap<byte[], long[]> map = ChronicleMapBuilder.of(byte[].class, long[].class)
                .name(name)
                .entries(entries)
                .maxBloatFactor(4)
                .averageKey(utf8(averageKey))
                .valueMarshallers(marshaller, marshaller)
                .constantValueSizeBySample(new long[length])
                .createPersistedTo(file.toFile());
        return new ChronicleCellStore<>(
                map, k -> k, k -> new String(k, StandardCharsets.UTF_8), false, file, length, entries);
    }

    @Override
    public long update(String key, Op op) {
        byte[] bytes = utf8(key);
        long check = checked ? CHECK_HASH.hashBytes(bytes) : 0;
        return update(keyOf.apply(bytes), key, check, op);
    }

    private long update(M mapKey, String key, long check, Op op) {
        long[][] b = buffers.get();
        long[] c = b[0];
        long[] before = b[1];
        try (ExternalMapQueryContext<M, long[], ?> q = map.queryContext(mapKey)) {
            q.updateLock().lock();
            MapEntry<M, long[]> e = q.entry();
            if (e == null) {
                Arrays.fill(c, 0);
                long result = op.apply(c);
                if (!HeapCellStore.isZero(c)) {
                    insert(q, c, check);
                }
                return result;
            }
            Data<long[]> v = e.value();
            RandomDataInput in = v.bytes();
            long off = cellsAt(v, check, key);
            readCells(in, off, c);
            System.arraycopy(c, 0, before, 0, length);
            long result = op.apply(c);
            if (!Arrays.equals(c, before)) {
                write(q, e, in, off, c, before);
            }
            return result;
        }
    }

    private void write(
            ExternalMapQueryContext<M, long[], ?> q,
            MapEntry<M, long[]> e,
            RandomDataInput in,
            long off,
            long[] c,
            long[] before) {
        if (in instanceof RandomDataOutput<?> out) {
            q.writeLock().lock();
            if (out.isDirectMemory()) {
                long address = out.addressForWrite(off);
                out.addressForWrite(off + 8L * (length - 1));
                for (int i = 0; i < length; i++) {
                    if (c[i] != before[i]) {
                        MEMORY.writeLong(address + 8L * i, c[i]);
                    }
                }
            } else {
                for (int i = 0; i < length; i++) {
                    if (c[i] != before[i]) {
                        out.writeLong(off + 8L * i, c[i]);
                    }
                }
            }
        } else {
            q.replaceValue(
                    e, q.wrapValueAsData(withCheck(c, in.readLong(e.value().offset()))));
        }
    }

    /**
     * Copies the entry's longs out of the mapped segment. Off-heap (always, for a persisted map) it
     * checks the bounds once and reads raw memory: per-long checked reads cost a third of a lookup.
     */
    private void readCells(RandomDataInput in, long off, long[] into) {
        if (in.isDirectMemory()) {
            long address = in.addressForRead(off);
            in.addressForRead(off + 8L * (length - 1));
            for (int i = 0; i < length; i++) {
                into[i] = MEMORY.readLong(address + 8L * i);
            }
        } else {
            for (int i = 0; i < length; i++) {
                into[i] = in.readLong(off + 8L * i);
            }
        }
    }

    private void insert(ExternalMapQueryContext<M, long[], ?> q, long[] c, long check) {
        try {
            q.insert(q.absentEntry(), q.wrapValueAsData(withCheck(c, check)));
        } catch (IllegalStateException full) {
            throw new StateStoreException(
                    file + " is full: " + map.size() + " keys (sized for " + entries
                            + ", may grow 4x; expected: fewer keys, or a larger map)",
                    full);
        }
    }

    private long[] withCheck(long[] c, long check) {
        if (!checked) {
            return c;
        }
        long[] v = new long[stored];
        v[0] = check;
        System.arraycopy(c, 0, v, 1, length);
        return v;
    }

    /**
     * Where the cells of value {@code v} start: after its check hash, verified against {@code check}
     * for {@code key}, when this map keeps one.
     */
    private long cellsAt(Data<long[]> v, long check, String key) {
        long off = v.offset();
        if (checked) {
            verify(v.bytes().readLong(off), check, key);
            off += 8;
        }
        return off;
    }

    private void verify(long found, long expected, String key) {
        if (found != expected && key != null) {
            throw new StateStoreException(file + ": key " + key + " collides with another key's 64-bit hash"
                    + " (expected: distinct keys; rename one)");
        }
    }

    @Override
    public boolean read(String key, long[] into) {
        byte[] bytes = utf8(key);
        long check = checked ? CHECK_HASH.hashBytes(bytes) : 0;
        try (ExternalMapQueryContext<M, long[], ?> q = map.queryContext(keyOf.apply(bytes))) {
            q.readLock().lock();
            MapEntry<M, long[]> e = q.entry();
            if (e == null) {
                return false;
            }
            Data<long[]> v = e.value();
            readCells(v.bytes(), cellsAt(v, check, key), into);
            return true;
        }
    }

    @Override
    public void updateAll(Op op) {
        for (M mapKey : new ArrayList<>(map.keySet())) {
            long[][] b = buffers.get();
            // key null: each entry keeps its own check hash
            try (ExternalMapQueryContext<M, long[], ?> q = map.queryContext(mapKey)) {
                q.updateLock().lock();
                MapEntry<M, long[]> e = q.entry();
                if (e == null) {
                    continue;
                }
                Data<long[]> v = e.value();
                RandomDataInput in = v.bytes();
                long off = v.offset() + (checked ? 8 : 0);
                readCells(in, off, b[0]);
                System.arraycopy(b[0], 0, b[1], 0, length);
                if (op.apply(b[0]) != 0 && !Arrays.equals(b[0], b[1])) {
                    write(q, e, in, off, b[0], b[1]);
                }
            }
        }
    }

    @Override
    public void forEach(BiConsumer<String, long[]> action) {
        if (nameOf == null) {
            throw new UnsupportedOperationException(file + " has hashed keys; they cannot be listed");
        }
        List<String> keys = new ArrayList<>();
        for (M k : map.keySet()) {
            keys.add(nameOf.apply(k));
        }
        for (String key : keys) {
            long[] copy = new long[length];
            if (read(key, copy)) {
                action.accept(key, copy);
            }
        }
    }

    /** The 64-bit hash a {@link #hashed} map keys {@code s} by. */
    static long keyHash(String s) {
        return KEY_HASH.hashBytes(utf8(s));
    }

    /** The second, independent 64-bit hash a {@link #hashed} map checks {@code s} by. */
    static long checkHash(String s) {
        return CHECK_HASH.hashBytes(utf8(s));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        map.close();
    }
}
