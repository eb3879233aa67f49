package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A whole client connection pipeline as {@link ServerChannelInitializer} builds it, fed raw bytes:
 * protocol detection, HTTP/1.1 keep-alive and close, and the switch to HTTP/2 on the preface.
 */
class ServerChannelInitializerTest {
    private static final int FRAME_HEADER = 9;
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int SETTINGS = 0x4;
    private static final int GOAWAY = 0x7;

    private final ChannelGroup group = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private UpstreamClient upstream;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new UpstreamClient(NioSocketChannel.class, NioDatagramChannel.class);
        Gateway gateway = io.brainstorm.proxy.testing.TestRouters.start(
                new Gateway(
                        ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                        io.brainstorm.proxy.testing.TestRegistries.withKey(io.brainstorm.proxy.auth.ApiKeys.generate()),
                        upstream),
                io.brainstorm.proxy.testing.TestRouters.empty());
        // an accepted connection's parent is a server channel; HTTP/2 multiplexing reads its role from that
        channel = new EmbeddedChannel(
                new LocalServerChannel(),
                DefaultChannelId.newInstance(),
                true,
                false,
                new ServerChannelInitializer(gateway, group));
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        upstream.close();
    }

    private void writeAscii(String s) {
        channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
        channel.runPendingTasks();
    }

    /** Everything written to the client so far, the buffers released. */
    private byte[] outbound() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf buf; (buf = channel.readOutbound()) != null; ) {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            buf.release();
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    private String outboundText() {
        return new String(outbound(), StandardCharsets.UTF_8);
    }

    @Test
    void http11RequestGetsAnHttp11Answer() {
        assertTrue(channel.isActive());
        assertTrue(group.contains(channel), "the connection is tracked for shutdown");
        assertNotNull(channel.attr(ServerChannelInitializer.ACTIVE_REQUESTS).get());

        writeAscii("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        String answer = outboundText();
        assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
        assertTrue(answer.toLowerCase().contains("content-type: application/json"), answer);
        assertTrue(answer.endsWith("\r\n\r\n{\"status\":\"ok\"}"), answer);
        assertTrue(channel.isOpen(), "HTTP/1.1 keeps the connection by default");
        assertNotNull(channel.pipeline().get(HttpServerCodec.class));
        assertNull(channel.pipeline().get(ServerChannelInitializer.H1_SETUP), "set up once, then gone");
        assertNotNull(channel.pipeline().get(ServerChannelInitializer.API));

        writeAscii("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        String two = outboundText();
        int first = two.indexOf("HTTP/1.1 503");
        int second = two.indexOf("HTTP/1.1 404");
        assertTrue(first == 0 && second > first, "pipelined requests are answered in order: " + two);
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void connectionCloseIsHonouredAfterTheAnswer() {
        writeAscii("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String answer = outboundText();
        assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
        assertTrue(answer.toLowerCase().contains("connection: close"), answer);
        assertFalse(channel.isOpen(), "closed after the answer");
        assertFalse(group.contains(channel));
        assertFalse(channel.finish());
    }

    @Test
    void http10WithoutKeepAliveIsClosed() {
        writeAscii("GET /healthz HTTP/1.0\r\n\r\n");
        String answer = outboundText();
        assertTrue(answer.contains(" 200 OK\r\n"), answer);
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void garbageIsAnswered400AndClosed() {
        writeAscii("NOT HTTP AT ALL\r\n\r\n");
        String answer = outboundText();
        assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        assertTrue(answer.contains("\"type\":\"invalid_request_error\""), answer);
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void priorKnowledgePrefaceSwitchesToHttp2AndServesAStream() throws Exception {
        ByteBuf in = Unpooled.buffer();
        in.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        writeFrameHeader(in, 0, SETTINGS, 0, 0);
        channel.writeInbound(in);
        channel.runPendingTasks();

        byte[] out = outbound();
        assertTrue(out.length >= FRAME_HEADER, "the server answered the preface");
        assertEquals(SETTINGS, out[3], "the server's first frame is SETTINGS");
        assertEquals(0, out[4] & 0x1, "its own SETTINGS, not an ACK");
        assertNotNull(channel.pipeline().get(Http2FrameCodec.class), "frame codec in place");
        assertNotNull(channel.pipeline().get(Http2MultiplexHandler.class), "streams multiplexed");
        assertNull(channel.pipeline().get(HttpServerCodec.class), "no HTTP/1.1 codec on an HTTP/2 connection");
        assertNull(channel.pipeline().get(ServerChannelInitializer.H1_SETUP));
        assertNull(channel.pipeline().get(ServerChannelInitializer.H2C));
        assertNull(channel.pipeline().get(ServerChannelInitializer.DEADLINE), "HTTP/1.1 deadlines gone");
        assertNull(channel.pipeline().get(ServerChannelInitializer.DEADLINE_BYTES));
        assertNull(
                channel.pipeline().get(ServerChannelInitializer.SETTINGS_DEADLINE),
                "the client's SETTINGS came in the preface's read: no wait for them");
        // connection-level frames pass the multiplexer to the pipeline's end, where a server drops them
        assertTrue(channel.readInbound() instanceof Http2SettingsFrame);
        assertNull(channel.readInbound());

        // GET /healthz on stream 1
        Http2Headers request = new DefaultHttp2Headers()
                .method("GET")
                .path("/healthz")
                .scheme("http")
                .authority("x");
        ByteBuf block = Unpooled.buffer();
        new DefaultHttp2HeadersEncoder().encodeHeaders(1, request, block);
        ByteBuf frame = Unpooled.buffer();
        writeFrameHeader(frame, block.readableBytes(), HEADERS, 0x1 | 0x4, 1);
        frame.writeBytes(block);
        block.release();
        channel.writeInbound(frame);
        channel.runPendingTasks();

        ByteBuf answer = Unpooled.wrappedBuffer(outbound());
        String status = null;
        StringBuilder body = new StringBuilder();
        boolean ended = false;
        DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(true);
        while (answer.readableBytes() >= FRAME_HEADER) {
            int length = answer.readUnsignedMedium();
            int type = answer.readUnsignedByte();
            int flags = answer.readUnsignedByte();
            int stream = answer.readInt() & 0x7fffffff;
            ByteBuf payload = answer.readSlice(length);
            if (stream != 1) {
                continue;
            }
            if (type == HEADERS) {
                status = decoder.decodeHeaders(1, payload).status().toString();
            } else if (type == DATA) {
                body.append(payload.toString(StandardCharsets.UTF_8));
            }
            ended |= (flags & 0x1) != 0;
        }
        answer.release();
        assertEquals("200", status);
        assertEquals("{\"status\":\"ok\"}", body.toString());
        assertTrue(ended, "the stream was ended");
        assertTrue(channel.isOpen(), "the connection stays for more streams");

        channel.close();
        channel.runPendingTasks();
        byte[] bye = outbound();
        assertTrue(bye.length >= FRAME_HEADER && bye[3] == GOAWAY, "closing an HTTP/2 connection says GOAWAY");
        assertFalse(channel.finish());
    }

    private static void writeFrameHeader(ByteBuf buf, int length, int type, int flags, int stream) {
        buf.writeMedium(length).writeByte(type).writeByte(flags).writeInt(stream);
    }
}
