package io.brainstorm.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Splits an upstream's Server-Sent-Events body, arriving as arbitrary {@link ByteBuf} chunks,
 * into complete events, without copying where it can. Sits in the relay between the upstream
 * response and the client: each event is inspected ({@link SseEvents}) and forwarded byte for
 * byte.
 *
 * <p>An event ends at a blank line. Line terminators are {@code "\n"}, {@code "\r\n"} or
 * {@code "\r"}, in any mix, as the SSE specification allows; a {@code "\r"} at the end of one
 * chunk followed by {@code "\n"} at the start of the next is one terminator. Each event handed
 * on includes its terminating blank line exactly as received, so the concatenation of all events
 * plus {@link #takeRemainder()} is exactly the input. Blank lines between events come out as
 * events of their own (just the terminator); {@link SseEvents} treats them as neither data nor
 * comment.
 *
 * <p>When an event's blank line ends in a bare {@code "\r"} that is the last byte of a chunk, the
 * splitter cannot know yet whether a {@code "\n"} belongs to it, so it holds the event until the
 * next byte arrives (or {@link #takeRemainder()} is called). LLM upstreams use {@code "\n"} or
 * {@code "\r\n"}, where this never delays anything.
 *
 * <h2>Reference counting</h2>
 * {@link #feed} takes ownership of the chunk. Every event handed to the consumer is a buffer the
 * consumer owns and must release: a retained slice of the chunk when the event lies in one chunk
 * (no copy), otherwise a composite of the held slices. Bytes of an unfinished event are held as
 * retained slices until the next feed; {@link #takeRemainder()} hands them to the caller and
 * {@link #release()} drops them. A splitter that may still hold bytes must get one of those two
 * calls when the stream ends, errors included.
 *
 * <h2>Threading</h2>
 * Not thread-safe. One instance per stream, used from that stream's event loop only.
 *
 * <h2>Errors</h2>
 * An event longer than {@code maxEventBytes} throws {@link SseEventTooLongException} after the
 * splitter has released the chunk and everything it held. An exception thrown by the consumer
 * propagates the same way: the rest of the chunk and the held bytes are released and the
 * splitter is reset. Events already handed on before the exception stay with the consumer.
 */
public final class SseEventSplitter {
    /** Beyond this many held slices a composite consolidates into one buffer (Netty's own rule). */
    private static final int MAX_COMPONENTS = 64;

    private final int maxEventBytes;
    private final Scanner scanner = new Scanner();
    /** Bytes of the unfinished event: a retained slice, or a composite of several; null if none. */
    private @Nullable ByteBuf held;

    public SseEventSplitter(int maxEventBytes) {
        if (maxEventBytes <= 0) {
            throw new IllegalArgumentException("maxEventBytes: " + maxEventBytes + " (expected: > 0)");
        }
        this.maxEventBytes = maxEventBytes;
    }

    /**
     * Scans {@code chunk} and hands every event it completes to {@code onEvent}, in order.
     * Takes ownership of {@code chunk}; see the class doc for who releases what.
     *
     * @throws SseEventTooLongException if an event grows past {@code maxEventBytes}
     */
    public void feed(ByteBuf chunk, Consumer<ByteBuf> onEvent) {
        try {
            int start = chunk.readerIndex();
            final int end = chunk.writerIndex();
            while (start < end) {
                int stop = chunk.forEachByte(start, end - start, scanner);
                if (stop < 0) {
                    break;
                }
                int eventEnd = stop + scanner.takeEndOffset();
                ByteBuf event = takeEvent(chunk, start, eventEnd);
                start = eventEnd;
                onEvent.accept(event);
            }
            if (start < end) {
                int total = heldBytes() + end - start;
                if (total > maxEventBytes) {
                    throw new SseEventTooLongException(total, maxEventBytes);
                }
                hold(chunk.retainedSlice(start, end - start));
            }
        } catch (Throwable t) {
            release();
            throw t;
        } finally {
            chunk.release();
        }
    }

    /**
     * Hands over the bytes of the unfinished trailing event, if any, and resets the splitter.
     * The caller owns the result; {@link Unpooled#EMPTY_BUFFER} when nothing is held.
     */
    public ByteBuf takeRemainder() {
        ByteBuf remainder = held;
        held = null;
        scanner.reset();
        return remainder != null ? remainder : Unpooled.EMPTY_BUFFER;
    }

    /** Releases held bytes and resets the splitter. Idempotent. */
    public void release() {
        ByteBuf h = held;
        held = null;
        scanner.reset();
        if (h != null) {
            h.release();
        }
    }

    /** Bytes of the unfinished event held for the next {@link #feed}. */
    public int heldBytes() {
        return held != null ? held.readableBytes() : 0;
    }

    /** The held bytes plus {@code chunk[start, eventEnd)}, as one buffer the caller owns. */
    private @Nullable ByteBuf takeEvent(ByteBuf chunk, int start, int eventEnd) {
        int total = heldBytes() + eventEnd - start;
        if (total > maxEventBytes) {
            throw new SseEventTooLongException(total, maxEventBytes);
        }
        if (eventEnd > start) {
            hold(chunk.retainedSlice(start, eventEnd - start));
        }
        ByteBuf event = held;
        held = null;
        return event;
    }

    /** Appends {@code part} (ownership taken) to the held bytes. */
    private void hold(ByteBuf part) {
        if (held == null) {
            held = part;
            return;
        }
        CompositeByteBuf composite;
        if (held instanceof CompositeByteBuf c) {
            composite = c;
        } else {
            composite = part.alloc().compositeBuffer(MAX_COMPONENTS);
            composite.addComponent(true, held);
            held = composite;
        }
        composite.addComponent(true, part);
    }

    /**
     * Finds the end of the next event. Stops (returns {@code false}) at the byte where an event
     * is known to be complete; {@link #takeEndOffset()} then says whether that byte belongs to
     * the event (1) or starts the next one (0). State carries over between chunks.
     */
    private static final class Scanner implements ByteProcessor {
        /** No byte of the current line seen yet: a terminator here ends a blank line. */
        private boolean atLineStart = true;
        /** The previous byte was '\r': a '\n' now belongs to the same terminator. */
        private boolean afterCr;
        /** The previous '\r' ended a blank line: the event is complete, save perhaps a '\n'. */
        private boolean eventEndsAfterCr;

        private int endOffset;

        @Override
        public boolean process(byte b) {
            if (afterCr) {
                afterCr = false;
                if (eventEndsAfterCr) {
                    eventEndsAfterCr = false;
                    if (b == '\n') {
                        endOffset = 1;
                        return false;
                    }
                    // This byte starts the next event; it is scanned again from a clean state.
                    endOffset = 0;
                    return false;
                }
                if (b == '\n') {
                    return true;
                }
            }
            if (b == '\r') {
                afterCr = true;
                if (atLineStart) {
                    eventEndsAfterCr = true;
                }
                atLineStart = true;
                return true;
            }
            if (b == '\n') {
                if (atLineStart) {
                    endOffset = 1;
                    return false;
                }
                atLineStart = true;
                return true;
            }
            atLineStart = false;
            return true;
        }

        int takeEndOffset() {
            int offset = endOffset;
            endOffset = 0;
            return offset;
        }

        void reset() {
            atLineStart = true;
            afterCr = false;
            eventEndsAfterCr = false;
            endOffset = 0;
        }
    }
}
