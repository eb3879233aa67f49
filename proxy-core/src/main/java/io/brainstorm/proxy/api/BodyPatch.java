package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A client's body as the upstream gets it: the client's bytes with a few ranges replaced
 * (docs/architecture.md §2, step 7). The model's value is filled in per endpoint; every other
 * replacement is fixed when the request is parsed. Bytes outside the ranges go out as they came:
 * field order, whitespace, number forms and escapes included.
 *
 * <p><b>Ownership:</b> holds the body as a {@code byte[]} of its own, not a buffer, so a request
 * refused after parsing has nothing to release; {@link #write} makes a new buffer, owned by the
 * caller, for each attempt.
 *
 * <p><b>Threading:</b> immutable.
 */
final class BodyPatch {
    /** The replacement that removes a range. */
    static final byte[] NOTHING = new byte[0];

    private final byte[] source;
    /** Ranges in body order, not overlapping: start, end, replacement (null: the model). */
    private final int[] starts;

    private final int[] ends;
    private final byte[] @Nullable [] replacements;
    /** What goes right after each model value (usage asked for on a stream), or nothing. */
    private final byte[] afterModel;
    /** How many model values there are. */
    private final int models;
    /** The body's length without the model values, with every other replacement. */
    private final int fixedLength;

    private BodyPatch(byte[] source, int[] starts, int[] ends, byte[] @Nullable [] replacements, byte[] afterModel) {
        this.source = source;
        this.starts = starts;
        this.ends = ends;
        this.replacements = replacements;
        this.afterModel = afterModel;
        int length = source.length;
        int n = 0;
        for (int i = 0; i < starts.length; i++) {
            byte[] r = replacements[i];
            length -= ends[i] - starts[i];
            if (r == null) {
                n++;
            } else {
                length += r.length;
            }
        }
        this.models = n;
        this.fixedLength = length;
    }

    /** The body with every model value set to {@code model}: a new buffer the caller owns. */
    ByteBuf write(ByteBufAllocator alloc, String model) {
        byte[] quoted = quote(model);
        ByteBuf out = alloc.buffer(fixedLength + models * quoted.length + afterModel.length);
        int at = 0;
        for (int i = 0; i < starts.length; i++) {
            out.writeBytes(source, at, starts[i] - at);
            byte[] r = replacements[i];
            if (r == null) {
                out.writeBytes(quoted);
                out.writeBytes(afterModel);
            } else {
                out.writeBytes(r);
            }
            at = ends[i];
        }
        out.writeBytes(source, at, source.length - at);
        return out;
    }

    private static byte[] quote(String s) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(s);
        byte[] q = new byte[inner.length + 2];
        q[0] = '"';
        System.arraycopy(inner, 0, q, 1, inner.length);
        q[q.length - 1] = '"';
        return q;
    }

    /** Collects the ranges in any order; {@link #build} sorts them. */
    static final class Builder {
        private final byte[] source;
        private int n;
        private int[] starts = new int[4];
        private int[] ends = new int[4];
        private byte[] @Nullable [] replacements = new byte[4][];
        private byte[] afterModel = NOTHING;

        Builder(byte[] source) {
            this.source = source;
        }

        /** A model value, at {@code [start, end)}; {@code after}, when given, follows it (only one model may have one). */
        Builder model(int start, int end, byte @Nullable [] after) {
            if (after != null) {
                afterModel = after;
            }
            return add(start, end, null);
        }

        /** {@code [start, end)} replaced with {@code with} ({@link #NOTHING} removes it). */
        Builder replace(int start, int end, byte[] with) {
            return add(start, end, with);
        }

        /** Every range of {@code other}, a builder over the same body. */
        Builder addAll(Builder other) {
            for (int i = 0; i < other.n; i++) {
                add(other.starts[i], other.ends[i], other.replacements[i]);
            }
            return this;
        }

        private Builder add(int start, int end, byte @Nullable [] with) {
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, n * 2);
                ends = Arrays.copyOf(ends, n * 2);
                replacements = Arrays.copyOf(replacements, n * 2);
            }
            starts[n] = start;
            ends[n] = end;
            replacements[n] = with;
            n++;
            return this;
        }

        BodyPatch build() {
            // a handful of ranges, nearly in order already
            for (int i = 1; i < n; i++) {
                int s = starts[i];
                int e = ends[i];
                byte[] r = replacements[i];
                int j = i - 1;
                while (j >= 0 && starts[j] > s) {
                    starts[j + 1] = starts[j];
                    ends[j + 1] = ends[j];
                    replacements[j + 1] = replacements[j];
                    j--;
                }
                starts[j + 1] = s;
                ends[j + 1] = e;
                replacements[j + 1] = r;
            }
            return new BodyPatch(
                    source,
                    Arrays.copyOf(starts, n),
                    Arrays.copyOf(ends, n),
                    Arrays.copyOf(replacements, n),
                    afterModel);
        }
    }
}
