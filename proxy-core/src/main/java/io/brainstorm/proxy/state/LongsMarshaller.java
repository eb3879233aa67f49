package io.brainstorm.proxy.state;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.core.util.ReadResolvable;
import net.openhft.chronicle.hash.serialization.BytesReader;
import net.openhft.chronicle.hash.serialization.BytesWriter;
import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;

/**
 * Writes a {@code long[]} of a fixed length as that many little-endian longs, and reads it back into
 * the caller's array without allocating. Chronicle Map records the marshaller (class and length) in
 * each file's header, so a file opened with another layout fails at open instead of being misread.
 */
final class LongsMarshaller implements BytesReader<long[]>, BytesWriter<long[]>, ReadResolvable<LongsMarshaller> {
    private int length;

    LongsMarshaller(int length) {
        this.length = length;
    }

    @Override
    public long[] read(Bytes<?> in, long[] using) {
        long[] out = using != null && using.length == length ? using : new long[length];
        for (int i = 0; i < length; i++) {
            out[i] = in.readLong();
        }
        return out;
    }

    @Override
    public void write(Bytes<?> out, long[] value) {
        if (value.length != length) {
            throw new IllegalArgumentException("value length: " + value.length + " (expected: " + length + ")");
        }
        for (long v : value) {
            out.writeLong(v);
        }
    }

    @Override
    public void readMarshallable(WireIn wire) {
        length = wire.read("length").int32();
    }

    @Override
    public void writeMarshallable(WireOut wire) {
        wire.write("length").int32(length);
    }

    @Override
    public LongsMarshaller readResolve() {
        return this;
    }
}
