package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.server.GatewayServer;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client deadlines on a real socket: a client that drips its head or its body is answered 408 and
 * closed within the deadline, a client that never sends its HTTP/2 SETTINGS is closed, while a
 * kept-alive connection may rest between requests for longer than the deadlines. Also the strict
 * request head: {@code Host} exactly once on HTTP/1.1, no Content-Length beside Transfer-Encoding.
 */
class ClientDeadlinesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HEADER_DEADLINE_SECONDS = 3;
    private static final int BODY_DEADLINE_SECONDS = 3;
    private static final int SETTINGS_DEADLINE_SECONDS = 1;
    /** What a loaded two-core machine may add to a deadline before the close is seen. */
    private static final long SLACK_MILLIS = 2_500;

    private static final String apiKey = ApiKeys.generate();
    private static Registry registry;
    private static GatewayServer server;
    private static Path stateDir;

    @BeforeAll
    static void start() throws Exception {
        stateDir = java.nio.file.Files.createTempDirectory("br-deadlines");
        // GatewayHarness fixes the server block, so this test builds its own gateway with short deadlines
        String yaml =
                """
                server:
                  host: 127.0.0.1
                  port: 0
                  idle_timeout_seconds: 300
                  shutdown_grace_seconds: 1
                  header_timeout_seconds: %d
                  body_timeout_seconds: %d
                  h2_settings_timeout_seconds: %d
                admin:
                  enabled: false
                sim:
                  enabled: true
                  seed: 7
                  random_faults: false
                state_store: memory
                state_dir: %s
                """.formatted(HEADER_DEADLINE_SECONDS, BODY_DEADLINE_SECONDS, SETTINGS_DEADLINE_SECONDS, stateDir);
        GatewayConfig config = ConfigLoader.load(yaml, Path.of("."), Map.of());
        List<KeyConfig> keys = new ArrayList<>(config.keys());
        keys.add(new KeyConfig("test", ApiKeys.sha256(apiKey), "default"));
        Registry.Bootstrap boot = Registry.Bootstrap.of(config, Map.of());
        boot = new Registry.Bootstrap(keys, boot.providerKeys(), boot.providers(), null, null, null, null);
        registry = Registry.inMemory(boot, java.time.InstantSource.system());
        server = GatewayServer.start(config, registry, 2, java.time.InstantSource.system());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private static JsonNode error(RawHttp.Response r, int status, String code) throws IOException {
        assertEquals(status, r.status(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals("invalid_request_error", e.path("type").asText(), r.body());
        assertEquals(code, e.path("code").asText(), r.body());
        assertTrue(e.path("message").isTextual() && !e.path("message").asText().isEmpty(), r.body());
        assertTrue(e.has("param"), r.body());
        return e;
    }

    /** Writes {@code bytes} one a second from another thread until told to stop or the gateway closes. */
    private static Thread drip(RawHttp raw, String bytes) {
        Thread t = new Thread(
                () -> {
                    try {
                        for (int i = 0;
                                i < bytes.length() && !Thread.currentThread().isInterrupted();
                                i++) {
                            raw.write(bytes.substring(i, i + 1));
                            Thread.sleep(1_000);
                        }
                    } catch (IOException | InterruptedException e) {
                        // the gateway closed the connection, or the test is done
                    }
                },
                "drip");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Reads the answer and then the end of the connection; returns the time from {@code startNanos} to that end. */
    private static long answerAndCloseMillis(RawHttp raw, long startNanos, String code) throws Exception {
        RawHttp.Response r;
        try {
            r = raw.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within 15 s", e);
        }
        error(r, 408, code);
        assertEquals("close", r.header("connection"), r.headers().toString());
        assertTrue(raw.closedByPeer(), "the gateway closed the connection");
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    @Test
    void headerDrippedOneByteASecondIs408AndClosedWithinTheHeaderDeadline() throws Exception {
        try (RawHttp raw = new RawHttp(server.port())) {
            long start = System.nanoTime();
            Thread drip = drip(
                    raw,
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + apiKey
                            + "\r\n\r\n");
            try {
                long millis = answerAndCloseMillis(raw, start, "request_timeout");
                assertTrue(
                        millis >= HEADER_DEADLINE_SECONDS * 1_000L - 200, "not before the deadline: " + millis + " ms");
                assertTrue(millis <= HEADER_DEADLINE_SECONDS * 1_000L + SLACK_MILLIS, "closed after " + millis + " ms");
            } finally {
                drip.interrupt();
                drip.join(5_000);
            }
        }
    }

    @Test
    void bodyDrippedOneByteASecondIs408AndClosedWithinTheBodyDeadline() throws Exception {
        String body = "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"slowly\"}]}";
        try (RawHttp raw = new RawHttp(server.port())) {
            raw.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + apiKey
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n");
            long start = System.nanoTime();
            Thread drip = drip(raw, body);
            try {
                long millis = answerAndCloseMillis(raw, start, "request_timeout");
                assertTrue(
                        millis >= BODY_DEADLINE_SECONDS * 1_000L - 200, "not before the deadline: " + millis + " ms");
                assertTrue(millis <= BODY_DEADLINE_SECONDS * 1_000L + SLACK_MILLIS, "closed after " + millis + " ms");
            } finally {
                drip.interrupt();
                drip.join(5_000);
            }
        }
    }

    @Test
    void http11WithoutHostOrWithTwoIs400AndClosed() throws Exception {
        for (String head : List.of(
                "GET /healthz HTTP/1.1\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n")) {
            try (RawHttp raw = new RawHttp(server.port())) {
                raw.write(head);
                JsonNode e = error(raw.read(), 400, "invalid_request");
                assertTrue(e.path("message").asText().contains("Host"), e.toString());
                assertTrue(raw.closedByPeer(), "closed after " + head);
            }
        }
        // HTTP/1.0 predates Host; it stays allowed
        try (RawHttp raw = new RawHttp(server.port())) {
            raw.write("GET /healthz HTTP/1.0\r\n\r\n");
            assertEquals(200, raw.read().status());
        }
    }

    @Test
    void contentLengthBesideTransferEncodingOrTwiceIs400AndClosed() throws Exception {
        // a front proxy that believes Content-Length and a server that believes chunked disagree on
        // where this request ends (request smuggling): refused, never guessed
        try (RawHttp raw = new RawHttp(server.port())) {
            raw.write("POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            JsonNode e = error(raw.read(), 400, "invalid_request");
            assertTrue(e.path("message").asText().contains("Transfer-Encoding"), e.toString());
            assertTrue(raw.closedByPeer());
        }
        try (RawHttp raw = new RawHttp(server.port())) {
            raw.write(
                    "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\n{}{}");
            error(raw.read(), 400, "invalid_request");
            assertTrue(raw.closedByPeer());
        }
    }

    private static byte[] preface() {
        io.netty.buffer.ByteBuf p = Http2CodecUtil.connectionPrefaceBuf();
        byte[] bytes = new byte[p.readableBytes()];
        p.readBytes(bytes);
        p.release();
        return bytes;
    }

    @Test
    void http2PrefaceAloneGetsTheServersSettingsAndIsClosedAfterTheSettingsDeadline() throws Exception {
        try (RawHttp raw = new RawHttp(server.port())) {
            raw.write(preface());
            long sent = System.nanoTime();
            DataInputStream in = new DataInputStream(raw.in());
            int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            in.readInt();
            in.skipNBytes(length);
            assertEquals(0x4, type, "the server's first frame is SETTINGS");
            assertEquals(0, flags & 0x1, "its own SETTINGS, not an ACK");
            // generous: the first HTTP/2 connection of a JVM loads the codec's classes
            assertTrue(System.nanoTime() - sent < 5_000_000_000L, "SETTINGS arrived promptly");

            int lastType = -1;
            long goAwayError = -1;
            while (true) {
                int b;
                try {
                    b = in.read();
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("still open 15 s after a preface without SETTINGS", e);
                } catch (IOException e) {
                    break;
                }
                if (b < 0) {
                    break;
                }
                length = b << 16 | in.readUnsignedShort();
                lastType = in.readUnsignedByte();
                in.readUnsignedByte();
                in.readInt();
                byte[] payload = in.readNBytes(length);
                if (lastType == 0x7 && payload.length >= 8) {
                    goAwayError = java.nio.ByteBuffer.wrap(payload, 4, 4).getInt() & 0xffffffffL;
                }
            }
            long millis = (System.nanoTime() - sent) / 1_000_000;
            assertEquals(0x7, lastType, "the last frame before the close is GOAWAY");
            assertEquals(0x4, goAwayError, "SETTINGS_TIMEOUT");
            assertTrue(
                    millis >= SETTINGS_DEADLINE_SECONDS * 1_000L - 200, "not before the deadline: " + millis + " ms");
            assertTrue(millis <= SETTINGS_DEADLINE_SECONDS * 1_000L + SLACK_MILLIS, "closed after " + millis + " ms");
        }
    }

    @Test
    void keptAliveConnectionsRestLongerThanTheDeadlinesBetweenRequests() throws Exception {
        String body = "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
        try (RawHttp raw = new RawHttp(server.port());
                H2Client h2 = new H2Client(server.port())) {
            raw.write(RawHttp.post("/v1/chat/completions", apiKey, body));
            assertEquals(200, raw.read().status());
            assertEquals(
                    200,
                    h2.post("/v1/chat/completions", apiKey, body, Map.of())
                            .get(20, TimeUnit.SECONDS)
                            .status());

            // the pause is the point: longer than every deadline, shorter than the idle timeout
            long pause = 1_000L
                            * Math.max(
                                    HEADER_DEADLINE_SECONDS, Math.max(BODY_DEADLINE_SECONDS, SETTINGS_DEADLINE_SECONDS))
                    + 1_000;
            Thread.sleep(pause);

            raw.write(RawHttp.post("/v1/chat/completions", apiKey, body));
            RawHttp.Response second = raw.read();
            assertEquals(200, second.status(), second.body());
            H2Client.Response h2Second =
                    h2.post("/v1/chat/completions", apiKey, body, Map.of()).get(20, TimeUnit.SECONDS);
            assertEquals(200, h2Second.status(), h2Second.body());
            assertTrue(h2.connection.isActive(), "the HTTP/2 connection was kept");
        }
    }

    private record Frame(int type, int flags, int stream, byte[] payload) {}

    private static Frame readFrame(DataInputStream in) throws IOException {
        int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        return new Frame(type, flags, stream, in.readNBytes(length));
    }

    private static void writeFrame(java.io.ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(stream).array());
        out.writeBytes(payload);
    }

    private static byte[] headerBlock(
            io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder encoder,
            io.netty.handler.codec.http2.Http2Headers headers)
            throws Exception {
        io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.buffer();
        try {
            encoder.encodeHeaders(1, headers, block);
            byte[] bytes = new byte[block.readableBytes()];
            block.readBytes(bytes);
            return bytes;
        } finally {
            block.release();
        }
    }

    @Test
    void http2StreamWhoseBodyStallsGets408OnThatStreamAndTheConnectionServesOn() throws Exception {
        var encoder = new io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder();
        var decoder = new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(true);
        try (RawHttp raw = new RawHttp(server.port())) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.writeBytes(preface());
            writeFrame(out, 0x4, 0, 0, new byte[0]);
            // stream 1: a chat request announcing 100 bytes of body, of which one arrives
            writeFrame(
                    out,
                    0x1,
                    0x4,
                    1,
                    headerBlock(
                            encoder,
                            new io.netty.handler.codec.http2.DefaultHttp2Headers()
                                    .method("POST")
                                    .path("/v1/chat/completions")
                                    .scheme("http")
                                    .authority("127.0.0.1")
                                    .add("authorization", "Bearer " + apiKey)
                                    .add("content-type", "application/json")
                                    .add("content-length", "100")));
            writeFrame(out, 0x0, 0, 1, "{".getBytes(StandardCharsets.US_ASCII));
            raw.write(out.toByteArray());
            long sent = System.nanoTime();

            DataInputStream in = new DataInputStream(raw.in());
            String status = null;
            StringBuilder body = new StringBuilder();
            long answeredMillis = -1;
            while (answeredMillis < 0) {
                Frame f;
                try {
                    f = readFrame(in);
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("no answer on stream 1 within 15 s", e);
                }
                if (f.type() == 0x4 && (f.flags() & 0x1) == 0) {
                    java.io.ByteArrayOutputStream ack = new java.io.ByteArrayOutputStream();
                    writeFrame(ack, 0x4, 0x1, 0, new byte[0]);
                    raw.write(ack.toByteArray());
                } else if (f.stream() == 1 && f.type() == 0x1) {
                    io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.wrappedBuffer(f.payload());
                    status = decoder.decodeHeaders(1, block).status().toString();
                    block.release();
                } else if (f.stream() == 1 && f.type() == 0x0) {
                    body.append(new String(f.payload(), StandardCharsets.UTF_8));
                }
                if (f.stream() == 1 && (f.flags() & 0x1) != 0 || f.stream() == 1 && f.type() == 0x3) {
                    answeredMillis = (System.nanoTime() - sent) / 1_000_000;
                }
            }
            assertEquals("408", status, body.toString());
            JsonNode e = JSON.readTree(body.toString()).path("error");
            assertEquals("request_timeout", e.path("code").asText(), body.toString());
            assertTrue(
                    answeredMillis >= BODY_DEADLINE_SECONDS * 1_000L - 200,
                    "not before the deadline: " + answeredMillis);
            assertTrue(
                    answeredMillis <= BODY_DEADLINE_SECONDS * 1_000L + SLACK_MILLIS,
                    "answered after " + answeredMillis);

            // the connection, and so any other stream on it, goes on
            out.reset();
            writeFrame(
                    out,
                    0x1,
                    0x4 | 0x1,
                    3,
                    headerBlock(
                            encoder,
                            new io.netty.handler.codec.http2.DefaultHttp2Headers()
                                    .method("GET")
                                    .path("/healthz")
                                    .scheme("http")
                                    .authority("127.0.0.1")));
            raw.write(out.toByteArray());
            String healthz = null;
            while (healthz == null) {
                Frame f = readFrame(in);
                assertTrue(f.type() != 0x7, "no GOAWAY: the connection was not closed");
                if (f.stream() == 3 && f.type() == 0x1) {
                    io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.wrappedBuffer(f.payload());
                    healthz = decoder.decodeHeaders(3, block).status().toString();
                    block.release();
                }
            }
            assertEquals("200", healthz);
        }
    }
}
