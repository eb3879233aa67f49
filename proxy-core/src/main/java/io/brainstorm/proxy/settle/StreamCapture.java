package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonParser;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The bounded side copy of one streamed answer, for scoring (docs/architecture.md §8): the content deltas and
 * each tool call's name and argument deltas of the first choice, and the finish reason. The relayed
 * bytes are not touched: each event is read, never modified or released.
 *
 * <p><b>Events.</b> Each event is read as the SSE specification says: its {@code data:} lines
 * (one optional space after the colon dropped) joined by {@code "\n"}, line ends {@code "\n"},
 * {@code "\r\n"} or {@code "\r"}; comment lines and other fields ({@code event:}, {@code id:}) are
 * ignored. The data is parsed with Jackson's streaming parser ({@link ChoiceReader}); an event
 * whose data is {@code [DONE]}, is not a JSON object, or does not parse is ignored as a whole.
 *
 * <p><b>Assembly.</b> Content deltas are appended. A tool-call delta joins the call with its
 * {@code index}; without an index (some providers), a delta with a new {@code id} starts a call and
 * one without joins the last. A call keeps its first {@code function.name}; argument deltas are
 * appended. The last {@code finish_reason} given wins.
 *
 * <p><b>Bound.</b> Kept bytes are the UTF-8 size of content, names and arguments plus
 * {@value #CALL_OVERHEAD} per call; once they exceed {@code maxBytes} the copy is dropped,
 * {@link #overLimit()} turns true and later events are not read (the answer is not scored:
 * {@link Scorer#score(ScoreSpec, StreamCapture)} says {@link ScoreOutcome#OVER_LIMIT}).
 *
 * <p><b>Reference counting:</b> {@link #onEvent} only reads the event; its owner releases it.
 *
 * <p><b>Threading:</b> one stream's, on its event loop.
 */
public final class StreamCapture {
    /** What one tool call counts against the limit beyond its text, so empty calls cannot pile up. */
    static final int CALL_OVERHEAD = 32;
    /** A larger scratch buffer is not kept between events. */
    private static final int KEEP_SCRATCH = 16 * 1024;

    private final int maxBytes;
    private final ChoiceReader reader = new ChoiceReader();
    private byte[] scratch = new byte[512];
    private @Nullable StringBuilder content;
    private final List<Call> calls = new ArrayList<>();
    private @Nullable Call last;
    private @Nullable String finishReason;
    private long kept;
    private boolean overLimit;

    /** @param maxBytes most bytes of content and arguments kept; beyond, {@link #overLimit()} */
    public StreamCapture(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        this.maxBytes = maxBytes;
    }

    /**
     * One SSE event as relayed ({@code data: {...}} with its line ends). Reads it without moving its
     * indexes or releasing it; events that are not chunks ({@code [DONE]}, comments, unparsable) are ignored.
     */
    public void onEvent(ByteBuf event) {
        if (overLimit) {
            return;
        }
        int length = event.readableBytes();
        if (length == 0) {
            return;
        }
        byte[] bytes = length <= scratch.length ? scratch : new byte[length];
        if (bytes != scratch && length <= KEEP_SCRATCH) {
            scratch = bytes;
        }
        event.getBytes(event.readerIndex(), bytes, 0, length);
        int data = extractData(bytes, length);
        if (data <= 0 || isDone(bytes, data)) {
            return;
        }
        try (JsonParser p = Scorer.JSON.createParser(bytes, 0, data)) {
            if (!reader.read(p) || !reader.found) {
                return;
            }
        } catch (IOException | RuntimeException e) {
            return;
        }
        apply();
    }

    /** Whether the answer outgrew the limit: it is then not scored. */
    public boolean overLimit() {
        return overLimit;
    }

    /** Bytes kept so far (see the class doc for what counts). */
    public long keptBytes() {
        return kept;
    }

    /** What the stream said so far; empty once {@link #overLimit()} (only the finish reason is kept). */
    public AnswerContent answer() {
        List<AnswerContent.ToolCall> out = new ArrayList<>(calls.size());
        List<Call> sorted = new ArrayList<>(calls);
        sorted.sort(Comparator.comparingInt(c -> c.index));
        for (Call c : sorted) {
            out.add(new AnswerContent.ToolCall(c.name, c.arguments.toString()));
        }
        return new AnswerContent(content == null ? null : content.toString(), out, finishReason);
    }

    private void apply() {
        if (reader.content != null) {
            if (content == null) {
                content = new StringBuilder();
            }
            content.append(reader.content);
            kept += utf8Length(reader.content);
        }
        for (ChoiceReader.ToolDelta d : reader.toolCalls) {
            Call c = callFor(d);
            if (c.name == null && d.name() != null) {
                c.name = d.name();
                kept += utf8Length(d.name());
            }
            if (d.arguments() != null) {
                c.arguments.append(d.arguments());
                kept += utf8Length(d.arguments());
            }
            last = c;
        }
        if (reader.finishReason != null) {
            finishReason = reader.finishReason;
        }
        if (kept > maxBytes) {
            overLimit = true;
            content = null;
            calls.clear();
            last = null;
        }
    }

    private Call callFor(ChoiceReader.ToolDelta d) {
        int index = d.index();
        if (index < 0) {
            boolean newId = d.id() != null && !d.id().isEmpty() && (last == null || !d.id().equals(last.id));
            if (last != null && !newId) {
                return last;
            }
            index = 0;
            for (Call c : calls) {
                index = Math.max(index, c.index + 1);
            }
        } else {
            for (Call c : calls) {
                if (c.index == index) {
                    return c;
                }
            }
        }
        Call c = new Call(index, d.id());
        calls.add(c);
        kept += CALL_OVERHEAD;
        return c;
    }

    /** Bytes {@code answer} would keep in a capture: the measure {@code scoring.max_capture_bytes} bounds. */
    static long keptBytes(AnswerContent answer) {
        long n = answer.content() == null ? 0 : utf8Length(answer.content());
        for (AnswerContent.ToolCall c : answer.toolCalls()) {
            n += CALL_OVERHEAD;
            n += c.name() == null ? 0 : utf8Length(c.name());
            n += c.arguments() == null ? 0 : utf8Length(c.arguments());
        }
        return n;
    }

    /** UTF-8 size, additive over concatenation (each half of a surrogate pair counts 2). */
    static long utf8Length(CharSequence s) {
        long n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char ch = s.charAt(i);
            n += ch < 0x80 ? 1 : ch < 0x800 || Character.isSurrogate(ch) ? 2 : 3;
        }
        return n;
    }

    /**
     * Moves the event's data (its {@code data:} values joined by {@code "\n"}) to the front of
     * {@code b}, in place (data never outruns the bytes read), and returns its length; 0 when the
     * event has no data line.
     */
    private static int extractData(byte[] b, int length) {
        int out = 0;
        boolean any = false;
        int i = 0;
        while (i < length) {
            int lineEnd = i;
            while (lineEnd < length && b[lineEnd] != '\n' && b[lineEnd] != '\r') {
                lineEnd++;
            }
            if (lineEnd - i >= 4
                    && b[i] == 'd'
                    && b[i + 1] == 'a'
                    && b[i + 2] == 't'
                    && b[i + 3] == 'a'
                    && (lineEnd - i == 4 || b[i + 4] == ':')) {
                int v = Math.min(i + 5, lineEnd);
                if (v < lineEnd && b[v] == ' ') {
                    v++;
                }
                if (any) {
                    b[out++] = '\n';
                }
                any = true;
                System.arraycopy(b, v, b, out, lineEnd - v);
                out += lineEnd - v;
            }
            i = lineEnd;
            if (i < length && b[i] == '\r') {
                i++;
            }
            if (i < length && b[i] == '\n' && (i == lineEnd || b[i - 1] == '\r')) {
                i++;
            }
        }
        return out;
    }

    private static boolean isDone(byte[] b, int length) {
        return length == 6 && b[0] == '[' && b[1] == 'D' && b[2] == 'O' && b[3] == 'N' && b[4] == 'E' && b[5] == ']';
    }

    private static final class Call {
        final int index;
        final @Nullable String id;

        @Nullable
        String name;

        final StringBuilder arguments = new StringBuilder();

        Call(int index, @Nullable String id) {
            this.index = index;
            this.id = id;
        }
    }
}
