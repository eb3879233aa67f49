package io.brainstorm.proxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** The load generator's response framing: what a user of the load figures relies on being counted right. */
class Http1ScannerTest {

    /** One response as the servers under test send it, and the events it must produce. */
    private record Response(int status, int bodyBytes, boolean chunked, boolean close, int chunkBytes, boolean upper) {
        byte[] bytes() {
            StringBuilder head = new StringBuilder("HTTP/1.1 " + status + " Whatever\r\n");
            head.append(upper ? "CONTENT-TYPE" : "content-type").append(": text/event-stream\r\n");
            if (chunked) {
                head.append(upper ? "Transfer-Encoding: Chunked\r\n" : "transfer-encoding: chunked\r\n");
            } else {
                head.append(upper ? "Content-Length: " : "content-length:")
                        .append(bodyBytes)
                        .append("\r\n");
            }
            if (close) {
                head.append("Connection: close\r\n");
            }
            head.append("\r\n");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
            // bodies of '\n' and '\r' bytes: the scanner must not take body bytes for line ends
            byte[] body = new byte[bodyBytes];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i % 3 == 0 ? '\n' : i % 3 == 1 ? '\r' : '0');
            }
            if (!chunked) {
                out.writeBytes(body);
            } else {
                for (int at = 0; at < body.length; at += chunkBytes) {
                    int n = Math.min(chunkBytes, body.length - at);
                    out.writeBytes((Integer.toHexString(n) + (at == 0 ? ";ext=1" : "") + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body, at, n);
                    out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.writeBytes("0\r\nX-Trailer: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            return out.toByteArray();
        }

        List<String> events() {
            List<String> e = new ArrayList<>();
            e.add("head " + status);
            if (bodyBytes > 0) {
                e.add("body");
            }
            e.add("end " + !close);
            return e;
        }
    }

    private static final class Recorder implements Http1Scanner.Events {
        final List<String> events = new ArrayList<>();
        private final @Nullable Http1Scanner requests;

        Recorder(@Nullable Http1Scanner requests) {
            this.requests = requests;
        }

        @Override
        public void head(int status) {
            events.add("head " + status + (requests != null && requests.acceptsEventStream() ? " stream" : ""));
        }

        @Override
        public void bodyStarted() {
            events.add("body");
        }

        @Override
        public void end(boolean keepAlive) {
            events.add("end " + keepAlive);
        }
    }

    private static Gen<Response> responses() {
        return integers()
                .between(0, 3)
                .zip(
                        integers().between(0, 3000),
                        integers().between(0, 7),
                        integers().between(1, 700),
                        (s, n, flags, c) -> new Response(
                                new int[] {200, 201, 429, 502}[s],
                                n,
                                (flags & 1) != 0,
                                (flags & 2) != 0,
                                c,
                                (flags & 4) != 0));
    }

    /** Feeds the bytes in slices cut at the given (seeded) points. */
    private static List<String> scan(byte[] bytes, long seed) {
        Http1Scanner scanner = Http1Scanner.responses();
        Recorder recorder = new Recorder(null);
        Random cuts = new Random(seed);
        for (int at = 0; at < bytes.length; ) {
            int n = Math.min(bytes.length - at, 1 + cuts.nextInt(cuts.nextBoolean() ? 4 : 2000));
            ByteBuf slice = Unpooled.wrappedBuffer(bytes, at, n);
            try {
                scanner.feed(slice, recorder);
                assertEquals(0, slice.readableBytes(), "every byte is read");
            } finally {
                slice.release();
            }
            at += n;
        }
        return recorder.events;
    }

    @Test
    void framesBackToBackResponsesTheSameHoweverTheBytesAreSplit() {
        qt().forAll(lists().of(responses()).ofSizeBetween(1, 6), integers().all())
                .checkAssert((list, seed) -> {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    List<String> expected = new ArrayList<>();
                    for (Response r : list) {
                        all.writeBytes(r.bytes());
                        expected.addAll(r.events());
                    }
                    assertEquals(expected, scan(all.toByteArray(), seed));
                });
    }

    @Test
    void skipsInterimResponsesAndEndsBodilessOnesAtTheHead() {
        byte[] bytes = ("HTTP/1.1 100 Continue\r\n\r\n"
                        + "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                        + "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        + "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        assertEquals(
                List.of("head 204", "end true", "head 200", "body", "end false", "head 200", "end true"),
                scan(bytes, 1));
    }

    @Test
    void framesRequestsAndSaysWhichAskForAStream() {
        Http1Scanner scanner = Http1Scanner.requests();
        Recorder recorder = new Recorder(scanner);
        ByteBuf in = Unpooled.copiedBuffer(
                "POST /v1/chat/completions HTTP/1.1\r\nACCEPT: Text/Event-Stream\r\nContent-Length: 4\r\n\r\n{}\r\n"
                        + "GET /v1/models HTTP/1.1\r\nAccept: application/json\r\n\r\n"
                        + "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                StandardCharsets.US_ASCII);
        scanner.feed(in, recorder);
        in.release();
        assertEquals(
                List.of("head 0 stream", "body", "end true", "head 0", "end true", "head 0", "body", "end false"),
                recorder.events);
    }

    @Test
    void refusesWhatItCannotFrame() {
        Http1Scanner scanner = Http1Scanner.responses();
        Recorder recorder = new Recorder(null);
        ByteBuf untilClose = Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\n\r\nbody", StandardCharsets.US_ASCII);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> scanner.feed(untilClose, recorder));
        untilClose.release();
        assertEquals(
                "response 200 without Content-Length or chunked encoding (expected: one of them; read-until-close is not supported)",
                e.getMessage());

        scanner.reset();
        ByteBuf garbage = Unpooled.copiedBuffer("SSH-2.0-OpenSSH\r\n", StandardCharsets.US_ASCII);
        e = assertThrows(IllegalStateException.class, () -> scanner.feed(garbage, recorder));
        garbage.release();
        assertEquals("status line: SSH-2.0-OpenSSH (expected: HTTP/1.x NNN ...)", e.getMessage());
        assertEquals(List.of("head 200"), recorder.events);
    }
}
