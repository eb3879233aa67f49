package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.ContentLengthNotAllowedException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HttpPipelineTest {
    private static final HttpPipeline STRICT = new HttpPipeline(64, 256, 1024, 32, Duration.ofSeconds(5), true);
    private static final HttpPipeline LENIENT = new HttpPipeline(64, 256, 1024, 32, Duration.ofSeconds(5), false);

    /** The codec, the idle close and the request stages, then whatever requests reach the end. */
    private static EmbeddedChannel channel(HttpPipeline http, List<FullHttpRequest> requests) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("http", http.codec());
        http.addIdleClose(ch.pipeline());
        http.addRequestStages(ch.pipeline(), HttpPipeline.IDLE_CLOSE);
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                requests.add((FullHttpRequest) msg);
            }
        });
        return ch;
    }

    private static void write(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    }

    @Test
    void stagesStandInOrderUnderTheirNames() {
        List<FullHttpRequest> requests = new ArrayList<>();
        EmbeddedChannel ch = channel(STRICT, requests);
        assertEquals(
                List.of(
                        "http",
                        HttpPipeline.IDLE,
                        HttpPipeline.IDLE_CLOSE,
                        HttpPipeline.KEEP_ALIVE,
                        HttpPipeline.AGGREGATOR,
                        HttpPipeline.FLOW_CONTROL),
                ch.pipeline().names().subList(0, 6));
        write(ch, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}");
        assertEquals(1, requests.size());
        assertEquals("{}", requests.get(0).content().toString(StandardCharsets.UTF_8));
        requests.forEach(ReferenceCountUtil::release);
        assertFalse(ch.finish());
    }

    @Test
    void aBodyOverTheLimitIs413() {
        List<FullHttpRequest> requests = new ArrayList<>();
        EmbeddedChannel ch = channel(STRICT, requests);
        write(ch, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 33\r\n\r\n" + "x".repeat(33));
        assertTrue(requests.isEmpty());
        ByteBuf head = ch.readOutbound();
        assertTrue(
                head.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 413 "),
                head.toString(StandardCharsets.US_ASCII));
        head.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void contentLengthBesideTransferEncodingIsRefusedOnlyWhenStrict() {
        String raw = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\n{}\r\n0\r\n\r\n";
        List<FullHttpRequest> strict = new ArrayList<>();
        EmbeddedChannel a = channel(STRICT, strict);
        write(a, raw);
        assertEquals(1, strict.size());
        assertTrue(strict.get(0).decoderResult().cause() instanceof ContentLengthNotAllowedException);
        assertEquals(
                "Malformed HTTP request: Content-Length beside Transfer-Encoding.",
                HttpPipeline.malformed(strict.get(0).decoderResult().cause(), 256)
                        .getMessage());
        strict.forEach(ReferenceCountUtil::release);
        a.finishAndReleaseAll();

        List<FullHttpRequest> lenient = new ArrayList<>();
        EmbeddedChannel b = channel(LENIENT, lenient);
        write(b, raw);
        assertEquals(1, lenient.size());
        assertTrue(lenient.get(0).decoderResult().isSuccess(), "Netty drops the Content-Length");
        assertEquals("{}", lenient.get(0).content().toString(StandardCharsets.UTF_8));
        lenient.forEach(ReferenceCountUtil::release);
        assertFalse(b.finish());
    }

    @Test
    void whatTheDecoderRefusedIsAnsweredByItsCause() {
        ApiError head = HttpPipeline.malformed(new TooLongHttpHeaderException("head"), 256);
        assertEquals(431, head.status().code());
        assertTrue(head.getMessage().contains("256"), head.getMessage());
        ApiError line = HttpPipeline.malformed(new TooLongFrameException("line"), 256);
        assertEquals(400, line.status().code());
        assertEquals("The request line is too long.", line.getMessage());
        ApiError other = HttpPipeline.malformed(new DecoderException("bad"), 256);
        assertEquals(400, other.status().code());
        assertEquals("Malformed HTTP request.", other.getMessage());
    }

    @Test
    void limitsMustBePositive() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new HttpPipeline(64, -3, 1024, 32, Duration.ofSeconds(5), true));
        assertEquals("maxHeaderBytes: -3 (expected: > 0)", e.getMessage());
        IllegalArgumentException idle = assertThrows(
                IllegalArgumentException.class, () -> new HttpPipeline(64, 256, 1024, 32, Duration.ZERO, true));
        assertEquals("idleTimeout: PT0S (expected: > 0)", idle.getMessage());
    }
}
