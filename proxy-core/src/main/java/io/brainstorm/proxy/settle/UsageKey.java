package io.brainstorm.proxy.settle;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * Finds OpenAI's {@code "usage": {…}} in raw JSON bytes without parsing them, for the SSE relay:
 * does this event carry the usage object? Inside
 * JSON strings quotes are escaped, so the raw bytes {@code "usage"} followed by a colon can only
 * be a key.
 */
public final class UsageKey {
    /** The object was not found. */
    public static final int NONE = -1;
    /** A line break follows the key: the JSON may go on in the next SSE {@code data:} line. */
    public static final int LINE_BREAK = -2;

    private static final byte[] KEY = {'"', 'u', 's', 'a', 'g', 'e', '"'};

    private UsageKey() {}

    /**
     * The index of the '{' opening the first usage object in {@code [from, to)}, scanning forward
     * in one pass; {@link #NONE}; or, when {@code lineBreaks} is false, {@link #LINE_BREAK} as soon
     * as a key is followed by a line break (the caller then reads the event line by line).
     *
     * @param lineBreaks whether line breaks are JSON whitespace here (true inside one JSON text)
     */
    public static int findObject(ByteBuf buf, int from, int to, boolean lineBreaks) {
        ForwardFinder finder = new ForwardFinder();
        int i = from;
        while (i < to) {
            int keyLast = buf.forEachByte(i, to - i, finder);
            if (keyLast < 0) {
                return NONE;
            }
            int object = objectAfterKey(buf, keyLast + 1, to, lineBreaks);
            if (object != NONE) {
                return object;
            }
            // the closing quote of "usage" may open the next string; scan on from there
            finder.matched = 1;
            i = keyLast + 1;
        }
        return NONE;
    }

    /** After a key ending before {@code i}: whitespace, ':', whitespace, '{' → the brace's index. */
    private static int objectAfterKey(ByteBuf buf, int i, int to, boolean lineBreaks) {
        for (int part = 0; part < 2; part++) {
            while (i < to) {
                byte b = buf.getByte(i);
                if (b == ' ' || b == '\t') {
                    i++;
                } else if (b == '\n' || b == '\r') {
                    if (!lineBreaks) {
                        return LINE_BREAK;
                    }
                    i++;
                } else {
                    break;
                }
            }
            if (i >= to) {
                return NONE;
            }
            byte expected = part == 0 ? (byte) ':' : (byte) '{';
            if (buf.getByte(i) != expected) {
                return NONE;
            }
            if (part == 1) {
                return i;
            }
            i++;
        }
        return NONE;
    }

    /** Stops on the closing quote of {@code "usage"}. */
    private static final class ForwardFinder implements ByteProcessor {
        int matched;

        @Override
        public boolean process(byte b) {
            if (b == KEY[matched]) {
                matched++;
                if (matched == KEY.length) {
                    matched = 0;
                    return false;
                }
                return true;
            }
            matched = b == '"' ? 1 : 0;
            return true;
        }
    }
}
