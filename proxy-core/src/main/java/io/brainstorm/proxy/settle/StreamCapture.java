package io.brainstorm.proxy.settle;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * The bounded side copy of one streamed answer, for scoring (DESIGN §8): the content deltas and
 * each tool call's name and argument deltas of the first choice, and the finish reason. The relayed
 * bytes are not touched: each event is read, never modified or released.
 * STUB: the scorer's author replaces the bodies; the signatures are the contract.
 *
 * <p><b>Threading:</b> one stream's, on its event loop.
 */
public final class StreamCapture {
    private final int maxBytes;

    /** @param maxBytes most bytes of content and arguments kept; beyond, {@link #overLimit()} */
    public StreamCapture(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * One SSE event as relayed ({@code data: {...}} with its line ends). Reads it without moving its
     * indexes or releasing it; events that are not chunks ({@code [DONE]}, comments, unparsable) are ignored.
     */
    public void onEvent(ByteBuf event) {
    }

    /** Whether the answer outgrew the limit: it is then not scored. */
    public boolean overLimit() {
        return false;
    }

    /** What the stream said so far. */
    public AnswerContent answer() {
        return new AnswerContent(null, List.of(), null);
    }
}
