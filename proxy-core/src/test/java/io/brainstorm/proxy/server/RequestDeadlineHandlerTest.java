package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link RequestDeadlineHandler} behind a real HTTP/1.1 codec, and on an HTTP/2 stream, with the event loop's clock moved by hand. */
class RequestDeadlineHandlerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration HEADER = Duration.ofSeconds(3);
    private static final Duration BODY = Duration.ofSeconds(5);

    private static EmbeddedChannel connection() {
        RequestDeadlineHandler deadline = RequestDeadlineHandler.forConnection(HEADER, BODY);
        EmbeddedChannel ch =
                new EmbeddedChannel(deadline.byteWatch(), new HttpServerCodec(new HttpDecoderConfig()), deadline);
        ch.freezeTime();
        return ch;
    }

    private static void write(EmbeddedChannel ch, String ascii) {
        ch.writeInbound(Unpooled.copiedBuffer(ascii, StandardCharsets.US_ASCII));
    }

    private static void advance(EmbeddedChannel ch, long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
    }

    /** Everything written to the client so far as text, the buffers released. */
    private static String outbound(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf buf; (buf = ch.readOutbound()) != null; ) {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            buf.release();
            out.writeBytes(bytes);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Releases what the handler passed on, and says how many messages that was. */
    private static int drainInbound(EmbeddedChannel ch) {
        int n = 0;
        for (Object m; (m = ch.readInbound()) != null; n++) {
            ReferenceCountUtil.release(m);
        }
        return n;
    }

    private static void assert408(String answer, String expectedInMessage) throws Exception {
        assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
        assertTrue(answer.toLowerCase().contains("connection: close"), answer);
        JsonNode e =
                JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4)).path("error");
        assertEquals("invalid_request_error", e.path("type").asText(), answer);
        assertEquals("request_timeout", e.path("code").asText(), answer);
        assertTrue(e.path("message").asText().contains(expectedInMessage), answer);
    }

    @Test
    void headDrippedPastItsDeadlineIs408AndClosed() throws Exception {
        EmbeddedChannel ch = connection();
        write(ch, "POST /v1/chat/completions HTTP/1.1\r\n");
        advance(ch, 2_000);
        write(ch, "Host: x\r\n");
        advance(ch, 900);
        assertEquals("", outbound(ch), "the deadline counts from the head's first byte, not from the last");
        assertTrue(ch.isOpen());

        advance(ch, 200);
        assert408(outbound(ch), "headers were not received within 3 seconds");
        assertFalse(ch.isOpen());
        assertEquals(0, drainInbound(ch), "no part of the request was passed on");
        assertFalse(ch.finish());
    }

    @Test
    void bodyDrippedPastItsDeadlineIs408AndClosed() throws Exception {
        EmbeddedChannel ch = connection();
        write(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
        for (int i = 0; i < 4; i++) {
            advance(ch, 1_000);
            write(ch, "3");
        }
        assertEquals("", outbound(ch));
        advance(ch, 1_100);
        assert408(outbound(ch), "body was not received within 5 seconds");
        assertFalse(ch.isOpen());
        assertTrue(drainInbound(ch) >= 2, "the head and the body so far went on as they came");
        assertFalse(ch.finish());
    }

    @Test
    void keptAliveConnectionRestsLongerThanTheDeadlinesAndEachRequestHasItsOwn() throws Exception {
        EmbeddedChannel ch = connection();
        write(ch, "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        assertEquals(2, drainInbound(ch), "the head, and the body as its last content");
        assertEquals(-1, ch.runScheduledPendingTasks(), "a request read whole in one read arms no timer");

        advance(ch, TimeUnit.HOURS.toMillis(1));
        assertEquals("", outbound(ch));
        assertTrue(ch.isOpen(), "time between requests is the idle timer's, not a deadline's");

        write(ch, "GET /healthz HTTP/1.1\r\n");
        advance(ch, 2_900);
        write(ch, "Host: x\r\n\r\n");
        assertEquals(2, drainInbound(ch));
        advance(ch, 10_000);
        assertEquals("", outbound(ch), "the head ended in time, and a GET has no body to wait for");
        assertTrue(ch.isOpen());

        // a third request: its deadline counts from its own first byte
        write(ch, "GET /healthz HTTP/1.1\r\n");
        advance(ch, 3_100);
        assert408(outbound(ch), "headers");
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void aReadOfNoBytesStartsNoHead() {
        EmbeddedChannel ch = connection();
        write(ch, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        drainInbound(ch);
        // what a transport does when auto-read is turned back on and nothing is waiting
        ch.pipeline().fireChannelReadComplete();
        assertEquals(-1, ch.runScheduledPendingTasks(), "no timer: no head has begun");
        advance(ch, 60_000);
        assertTrue(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void whileTheGatewayIsNotReadingTheDeadlineStartsOver() throws Exception {
        EmbeddedChannel ch = connection();
        write(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
        // as ApiHandler does while it serves an earlier pipelined request
        ch.config().setAutoRead(false);
        advance(ch, 5_100);
        assertEquals("", outbound(ch), "the client could not send: nothing was being read");
        ch.config().setAutoRead(true);
        advance(ch, 5_100);
        assert408(outbound(ch), "body");
        assertFalse(ch.isOpen());
        drainInbound(ch);
        assertFalse(ch.finish());
    }

    @Test
    void http2StreamBodyPastItsDeadlineIs408OnThatStream() throws Exception {
        EmbeddedChannel stream = new EmbeddedChannel(RequestDeadlineHandler.forStream(BODY));
        stream.freezeTime();
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions");
        HttpUtil.setContentLength(head, 10);
        stream.writeInbound(head, new DefaultHttpContent(Unpooled.copiedBuffer("12", StandardCharsets.US_ASCII)));
        stream.readInbound();
        ReferenceCountUtil.release(stream.readInbound());
        advance(stream, 4_900);
        assertTrue(stream.isOpen());
        advance(stream, 200);
        FullHttpResponse r = stream.readOutbound();
        try {
            assertEquals(408, r.status().code());
            assertTrue(r.content().toString(StandardCharsets.UTF_8).contains("\"request_timeout\""));
        } finally {
            r.release();
        }
        assertFalse(stream.isOpen(), "the stream is closed (reset), not the connection");
        assertFalse(stream.finish());
    }

    @Test
    void http2StreamWholeRequestArmsNothing() {
        EmbeddedChannel stream = new EmbeddedChannel(RequestDeadlineHandler.forStream(BODY));
        stream.freezeTime();
        stream.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/healthz"));
        ReferenceCountUtil.release(stream.readInbound());
        assertEquals(-1, stream.runScheduledPendingTasks());
        advance(stream, 60_000);
        assertTrue(stream.isOpen());
        assertFalse(stream.finish());
    }

    @Test
    void bodyEndingInTimeDisarmsTheDeadline() {
        EmbeddedChannel stream = new EmbeddedChannel(RequestDeadlineHandler.forStream(BODY));
        stream.freezeTime();
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/embeddings");
        stream.writeInbound(head);
        advance(stream, 4_000);
        stream.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        advance(stream, 60_000);
        assertTrue(stream.isOpen());
        assertEquals(2, drainInbound(stream));
        assertFalse(stream.finish());
    }
}
