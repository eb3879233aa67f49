package io.brainstorm.proxy.settle;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * Finds {@code "finish_reason": "length"} in raw JSON bytes without parsing them: an answer the
 * provider cut at its token limit is incomplete, which routing learns as a bad answer. Inside JSON
 * strings quotes are escaped, so the raw bytes {@code "length"} can only be a string token; it
 * counts when the key before it is {@code "finish_reason"}.
 */
public final class FinishReason {
    private static final byte[] LENGTH = {'"', 'l', 'e', 'n', 'g', 't', 'h', '"'};
    private static final byte[] KEY = {'"', 'f', 'i', 'n', 'i', 's', 'h', '_', 'r', 'e', 'a', 's', 'o', 'n', '"'};

    private FinishReason() {
    }

    /** Whether {@code json}'s readable bytes hold {@code "finish_reason":"length"} (whitespace allowed). */
    public static boolean cutByLength(ByteBuf json) {
        int start = json.readerIndex();
        int to = json.writerIndex();
        int from = start;
        ValueFinder finder = new ValueFinder();
        while (from < to) {
            // one pass over the bytes (forEachByte, not getByte per byte: cheap on wrapped buffers too)
            int last = json.forEachByte(from, to - from, finder);
            if (last < 0) {
                return false;
            }
            if (keyBefore(json, last - LENGTH.length + 1, start)) {
                return true;
            }
            // the closing quote may open the next string token
            finder.matched = 1;
            from = last + 1;
        }
        return false;
    }

    /** Stops on the last byte of {@code "length"}. */
    private static final class ValueFinder implements ByteProcessor {
        int matched;

        @Override
        public boolean process(byte b) {
            if (b == LENGTH[matched]) {
                matched++;
                if (matched == LENGTH.length) {
                    return false;
                }
            } else {
                matched = b == '"' ? 1 : 0;
            }
            return true;
        }
    }

    /** Whether {@code "finish_reason"} and a colon (with optional whitespace) end just before {@code at}. */
    private static boolean keyBefore(ByteBuf buf, int at, int start) {
        int i = skipSpaceBackwards(buf, at - 1, start);
        if (i < start || buf.getByte(i) != ':') {
            return false;
        }
        i = skipSpaceBackwards(buf, i - 1, start);
        int keyStart = i - KEY.length + 1;
        if (keyStart < start) {
            return false;
        }
        for (int k = 0; k < KEY.length; k++) {
            if (buf.getByte(keyStart + k) != KEY[k]) {
                return false;
            }
        }
        return true;
    }

    private static int skipSpaceBackwards(ByteBuf buf, int i, int start) {
        while (i >= start) {
            byte b = buf.getByte(i);
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                break;
            }
            i--;
        }
        return i;
    }
}
