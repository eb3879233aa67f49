package io.brainstorm.proxy.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Finds where HTTP/1.1 messages begin, where their bodies begin and where they end, in the bytes
 * of a connection as they arrive: responses for the {@link LoadGenerator}, requests for the
 * {@link CannedUpstream}. It reads the status code and the headers that frame a message
 * ({@code Content-Length}, {@code Transfer-Encoding: chunked}, {@code Connection}, and whether
 * {@code Accept} asks for {@code text/event-stream}) and skips everything else without building
 * header or content objects, so a steady load allocates nothing per message and the tools' own
 * pauses stay out of the latencies they record.
 *
 * <p>Supported framing: {@code Content-Length}, chunked (extensions and trailers skipped), no body
 * for 1xx, 204 and 304 responses and for requests with neither header. A response framed by the
 * connection's close is reported as an {@link IllegalStateException}: none of the servers the
 * benchmark measures sends one.
 *
 * <p><b>Threading.</b> One per connection, confined to its event loop.
 *
 * <p><b>Ownership.</b> {@link #feed} reads the buffer it is given and never releases or keeps it;
 * {@link #read} is for a handler's {@code channelRead}: it feeds the message and releases it.
 */
final class Http1Scanner {
    /** What the scanner reports, in order, for each response. */
    interface Events {
        /** The start line and headers have been read; {@code status} is 0 for a request. */
        void head(int status);

        /** The first byte of the body has arrived (not called for an empty body). */
        void bodyStarted();

        /** The message is complete; {@code keepAlive}: the connection may carry the next one. */
        void end(boolean keepAlive);
    }

    private static final int MAX_LINE = 16384;
    private static final byte[] CONTENT_LENGTH = ascii("content-length:");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding:");
    private static final byte[] CONNECTION = ascii("connection:");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] CLOSE = ascii("close");
    private static final byte[] KEEP_ALIVE = ascii("keep-alive");
    private static final byte[] ACCEPT = ascii("accept:");
    private static final byte[] EVENT_STREAM = ascii("text/event-stream");

    private enum State {
        STATUS_LINE,
        HEADERS,
        BODY,
        CHUNK_SIZE,
        CHUNK_DATA,
        CHUNK_END,
        TRAILERS
    }

    private final boolean requests;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private State state = State.STATUS_LINE;
    private int status;
    private boolean keepAlive;
    private boolean chunked;
    private long contentLength;
    private long remaining;
    private boolean bodyStarted;
    private boolean acceptsEventStream;

    private Http1Scanner(boolean requests) {
        this.requests = requests;
    }

    /** A scanner of the responses a client reads. */
    static Http1Scanner responses() {
        return new Http1Scanner(false);
    }

    /** A scanner of the requests a server reads. */
    static Http1Scanner requests() {
        return new Http1Scanner(true);
    }

    /** Whether the message whose head was last reported asked for {@code text/event-stream}. */
    boolean acceptsEventStream() {
        return acceptsEventStream;
    }

    /**
     * Scans all readable bytes of {@code in}, reporting to {@code events}; advances its reader index.
     *
     * @throws IllegalStateException on bytes that are not an HTTP/1.1 response this scanner frames
     */
    void feed(ByteBuf in, Events events) {
        while (in.isReadable()) {
            switch (state) {
                case BODY, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, in.readableBytes());
                    in.skipBytes(n);
                    remaining -= n;
                    if (n > 0 && !bodyStarted) {
                        bodyStarted = true;
                        events.bodyStarted();
                    }
                    if (remaining == 0) {
                        if (state == State.BODY) {
                            end(events);
                        } else {
                            state = State.CHUNK_END;
                        }
                    }
                }
                default -> {
                    if (readLine(in)) {
                        line(events);
                    }
                }
            }
        }
    }

    /** Feeds a {@code channelRead} message (a {@link ByteBuf}) and releases it, whatever happens. */
    void read(Object msg, Events events) {
        ByteBuf in = (ByteBuf) msg;
        try {
            feed(in, events);
        } finally {
            in.release();
        }
    }

    /** Forgets a partly read response: the connection it came on has closed. */
    void reset() {
        state = State.STATUS_LINE;
        lineLength = 0;
    }

    /** Appends bytes up to and including the next LF to {@link #line}; true when the line is whole. */
    private boolean readLine(ByteBuf in) {
        int lf = in.bytesBefore((byte) '\n');
        int take = lf < 0 ? in.readableBytes() : lf;
        if (lineLength + take > MAX_LINE) {
            throw new IllegalStateException("response line of more than " + MAX_LINE + " bytes (expected: less)");
        }
        in.readBytes(line, lineLength, take);
        lineLength += take;
        if (lf < 0) {
            return false;
        }
        in.skipBytes(1);
        if (lineLength > 0 && line[lineLength - 1] == '\r') {
            lineLength--;
        }
        return true;
    }

    private void line(Events events) {
        int length = lineLength;
        lineLength = 0;
        switch (state) {
            case STATUS_LINE -> {
                if (requests) {
                    // "POST /path HTTP/1.1"
                    status = 0;
                    keepAlive = length > 0 && line[length - 1] == '1';
                    chunked = false;
                    contentLength = -1;
                    acceptsEventStream = false;
                    state = State.HEADERS;
                    return;
                }
                // "HTTP/1.1 200 OK"
                if (length < 12 || !startsWith(line, length, "HTTP/1.")) {
                    throw new IllegalStateException(
                            "status line: " + new String(line, 0, length, StandardCharsets.ISO_8859_1)
                                    + " (expected: HTTP/1.x NNN ...)");
                }
                status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                keepAlive = line[7] == '1';
                chunked = false;
                contentLength = -1;
                acceptsEventStream = false;
                state = State.HEADERS;
            }
            case HEADERS -> {
                if (length > 0) {
                    header(length);
                } else {
                    headEnded(events);
                }
            }
            case CHUNK_SIZE -> {
                long size = 0;
                for (int i = 0; i < length && line[i] != ';' && line[i] != ' '; i++) {
                    int digit = Character.digit(line[i], 16);
                    if (digit < 0 || size > (Long.MAX_VALUE >> 4)) {
                        throw new IllegalStateException("chunk size: "
                                + new String(line, 0, length, StandardCharsets.ISO_8859_1) + " (expected: hex digits)");
                    }
                    size = size * 16 + digit;
                }
                remaining = size;
                state = size == 0 ? State.TRAILERS : State.CHUNK_DATA;
            }
            case CHUNK_END -> state = State.CHUNK_SIZE;
            case TRAILERS -> {
                if (length == 0) {
                    end(events);
                }
            }
            default -> throw new IllegalStateException("state: " + state + " (expected: one that reads lines)");
        }
    }

    private void header(int length) {
        if (startsWithIgnoreCase(CONTENT_LENGTH, length)) {
            long v = 0;
            for (int i = CONTENT_LENGTH.length; i < length; i++) {
                byte b = line[i];
                if (b >= '0' && b <= '9') {
                    v = v * 10 + (b - '0');
                }
            }
            contentLength = v;
        } else if (startsWithIgnoreCase(TRANSFER_ENCODING, length)) {
            chunked = contains(CHUNKED, length);
        } else if (startsWithIgnoreCase(ACCEPT, length)) {
            acceptsEventStream = contains(EVENT_STREAM, length);
        } else if (startsWithIgnoreCase(CONNECTION, length)) {
            if (contains(CLOSE, length)) {
                keepAlive = false;
            } else if (contains(KEEP_ALIVE, length)) {
                keepAlive = true;
            }
        }
    }

    private void headEnded(Events events) {
        if (!requests && status >= 100 && status < 200) {
            state = State.STATUS_LINE; // an interim response; the real one follows
            return;
        }
        events.head(status);
        bodyStarted = false;
        if (status == 204 || status == 304 || (requests && !chunked && contentLength < 0)) {
            end(events);
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength >= 0) {
            remaining = contentLength;
            state = State.BODY;
            if (remaining == 0) {
                end(events);
            }
        } else {
            throw new IllegalStateException(
                    "response " + status
                            + " without Content-Length or chunked encoding (expected: one of them; read-until-close is not supported)");
        }
    }

    private void end(Events events) {
        state = State.STATUS_LINE;
        events.end(keepAlive);
    }

    private boolean startsWithIgnoreCase(byte[] lowerPrefix, int length) {
        if (length < lowerPrefix.length) {
            return false;
        }
        for (int i = 0; i < lowerPrefix.length; i++) {
            if (lower(line[i]) != lowerPrefix[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean contains(byte[] lowerWord, int length) {
        outer:
        for (int i = 0; i + lowerWord.length <= length; i++) {
            for (int j = 0; j < lowerWord.length; j++) {
                if (lower(line[i + j]) != lowerWord[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean startsWith(byte[] bytes, int length, String prefix) {
        if (length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (bytes[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
