package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.settle.UsageKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * Reads and writes single Server-Sent Events, as cut by {@link SseEventSplitter}: whether an
 * event is the final {@code [DONE]}, a comment, or carries a {@code usage} object, and its data
 * field for the rare events that need a JSON parse. The checks run on every relayed event, so
 * they work on the bytes in place and allocate nothing.
 *
 * <p>Fields follow the SSE specification: a line {@code name:value} (one space after the colon
 * is dropped), a line without a colon is a field with an empty value, a line starting with
 * {@code ':'} is a comment, and lines end in {@code "\n"}, {@code "\r\n"} or {@code "\r"}.
 *
 * <h2>Reference counting</h2>
 * The readers never retain, release or move the indices of the event they are given. The
 * writers return a new buffer the caller owns, except {@link #done()}, whose buffer may be
 * released or not, as the caller likes (releasing it is a no-op).
 *
 * <h2>Threading</h2>
 * Stateless; safe from any thread.
 */
public final class SseEvents {
    private static final byte[] DATA = {'d', 'a', 't', 'a'};
    private static final byte[] DONE_VALUE = {'[', 'D', 'O', 'N', 'E', ']'};
    /** Room for {@code data: [DONE]} with an {@code id:} or {@code event:} line beside it. */
    static final int MAX_DONE_EVENT_BYTES = 128;

    private static final long NO_DATA = -1;
    private static final long MANY_DATA = -2;
    private static final ByteBuf DONE =
            Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII))
                    .asReadOnly());

    private SseEvents() {}

    /**
     * Whether the event's data is exactly {@code [DONE]}: OpenAI's end of stream. Events longer
     * than {@link #MAX_DONE_EVENT_BYTES} are answered at once: a {@code [DONE]} event is a dozen
     * bytes, and this check runs on every relayed event.
     */
    public static boolean isDone(ByteBuf event) {
        if (event.readableBytes() > MAX_DONE_EVENT_BYTES) {
            return false;
        }
        long only = onlyDataValue(event);
        return only >= 0 && equalsAt(event, (int) (only >>> 32), (int) only, DONE_VALUE);
    }

    /** Whether the event has lines and every one is a comment (starts with {@code ':'}). */
    public static boolean isComment(ByteBuf event) {
        boolean any = false;
        int end = event.writerIndex();
        for (int line = event.readerIndex(); line < end; line = nextLine(event, line, end)) {
            int lineEnd = lineEnd(event, line, end);
            if (lineEnd == line) {
                continue; // the blank line that ends the event
            }
            if (event.getByte(line) != ':') {
                return false;
            }
            any = true;
        }
        return any;
    }

    /**
     * Whether the event's data JSON has a {@code "usage"} key whose value is an object (so not
     * {@code "usage":null}). Inside JSON strings quotes are escaped, so the raw bytes
     * {@code "usage"} followed by a colon can only be a key.
     */
    public static boolean hasUsage(ByteBuf event) {
        // Runs on every relayed event: one pass over the raw bytes settles the common case (no
        // usage object anywhere in the event); the exact line-by-line reading below runs only when
        // that pass finds a candidate, about once per stream.
        if (UsageKey.findObject(event, event.readerIndex(), event.writerIndex(), false) == UsageKey.NONE) {
            return false;
        }
        long only = onlyDataValue(event);
        if (only == NO_DATA) {
            return false;
        }
        if (only == MANY_DATA) {
            // Rare: JSON spread over data lines; the key and its colon may sit on different lines.
            ByteBuf joined = Unpooled.wrappedBuffer(data(event).getBytes(StandardCharsets.UTF_8));
            return UsageKey.findObject(joined, 0, joined.writerIndex(), true) >= 0;
        }
        return UsageKey.findObject(event, (int) (only >>> 32), (int) only, true) >= 0;
    }

    /**
     * The value of the event's only {@code data} line, as its start index in the high 32 bits and
     * its end in the low ones (two indices in one long: this runs on every relayed event and
     * allocates nothing); {@link #NO_DATA} or {@link #MANY_DATA} when it has none or several.
     */
    private static long onlyDataValue(ByteBuf event) {
        int end = event.writerIndex();
        int line = nextDataLine(event, event.readerIndex(), end);
        if (line == end) {
            return NO_DATA;
        }
        int lineEnd = lineEnd(event, line, end);
        if (nextDataLine(event, nextLine(event, line, end), end) != end) {
            return MANY_DATA;
        }
        return (long) dataValueStart(event, line, lineEnd) << 32 | lineEnd;
    }

    /** Start of the first {@code data} line at or after {@code from}, or {@code end}. */
    private static int nextDataLine(ByteBuf buf, int from, int end) {
        for (int line = from; line < end; line = nextLine(buf, line, end)) {
            if (dataValueStart(buf, line, lineEnd(buf, line, end)) >= 0) {
                return line;
            }
        }
        return end;
    }

    /**
     * The event's data field: the values of its {@code data} lines joined by {@code "\n"}, UTF-8
     * decoded; empty when it has none. Allocates; meant for the few events that need parsing.
     */
    public static String data(ByteBuf event) {
        StringBuilder sb = null;
        int end = event.writerIndex();
        for (int line = event.readerIndex(); line < end; line = nextLine(event, line, end)) {
            int lineEnd = lineEnd(event, line, end);
            int value = dataValueStart(event, line, lineEnd);
            if (value < 0) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(lineEnd - value);
            } else {
                sb.append('\n');
            }
            sb.append(event.toString(value, lineEnd - value, StandardCharsets.UTF_8));
        }
        return sb == null ? "" : sb.toString();
    }

    /**
     * {@code data: <json>} and a blank line. A JSON text with line breaks becomes several
     * {@code data:} lines, which a client joins back with {@code "\n"}.
     */
    public static ByteBuf dataEvent(ByteBufAllocator alloc, String json) {
        return event(alloc, "data: ", json);
    }

    /** {@code : <text>} and a blank line; a text with line breaks becomes several comment lines. */
    public static ByteBuf commentEvent(ByteBufAllocator alloc, String text) {
        return event(alloc, ": ", text);
    }

    /**
     * {@code data: [DONE]} and a blank line. A shared, read-only, unreleasable buffer's duplicate:
     * the caller may write it, release it or drop it; none of that affects another caller.
     */
    public static ByteBuf done() {
        return DONE.duplicate();
    }

    private static ByteBuf event(ByteBufAllocator alloc, String prefix, String text) {
        ByteBuf buf = alloc.buffer(prefix.length() + ByteBufUtil.utf8MaxBytes(text) + 2);
        try {
            int from = 0;
            int n = text.length();
            while (true) {
                int to = from;
                while (to < n && text.charAt(to) != '\n' && text.charAt(to) != '\r') {
                    to++;
                }
                buf.writeCharSequence(prefix, StandardCharsets.US_ASCII);
                ByteBufUtil.writeUtf8(buf, text, from, to);
                buf.writeByte('\n');
                if (to == n) {
                    break;
                }
                from = to + (text.charAt(to) == '\r' && to + 1 < n && text.charAt(to + 1) == '\n' ? 2 : 1);
            }
            buf.writeByte('\n');
            return buf;
        } catch (Throwable t) {
            buf.release();
            throw t;
        }
    }

    /** Index of the first line terminator byte in {@code [from, end)}, or {@code end}. */
    private static int lineEnd(ByteBuf buf, int from, int end) {
        int i = buf.forEachByte(from, end - from, ByteProcessor.FIND_CRLF);
        return i < 0 ? end : i;
    }

    /** Start of the line after the one starting at {@code from}. */
    private static int nextLine(ByteBuf buf, int from, int end) {
        int i = lineEnd(buf, from, end);
        if (i == end) {
            return end;
        }
        if (buf.getByte(i) == '\r' && i + 1 < end && buf.getByte(i + 1) == '\n') {
            return i + 2;
        }
        return i + 1;
    }

    /** If {@code [line, lineEnd)} is a data line, where its value starts; else -1. */
    private static int dataValueStart(ByteBuf buf, int line, int lineEnd) {
        if (lineEnd - line < DATA.length || !equalsAt(buf, line, line + DATA.length, DATA)) {
            return -1;
        }
        int i = line + DATA.length;
        if (i == lineEnd) {
            return i; // "data" alone: a data field with an empty value
        }
        if (buf.getByte(i) != ':') {
            return -1; // some other field, such as "database:"
        }
        i++;
        if (i < lineEnd && buf.getByte(i) == ' ') {
            i++;
        }
        return i;
    }

    private static boolean equalsAt(ByteBuf buf, int from, int to, byte[] expected) {
        if (to - from != expected.length) {
            return false;
        }
        for (int k = 0; k < expected.length; k++) {
            if (buf.getByte(from + k) != expected[k]) {
                return false;
            }
        }
        return true;
    }
}
