package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Loads and initialises, on a second core while the main thread reads the configuration, the
 * classes the first client connection needs (HTTP codecs, the HTTP/2 codec, the JSON mapper), so
 * the first {@code /healthz} is not also the moment they load. Start-up only: nothing here runs on
 * the request path, and a failure is ignored (the classes then load on first use as usual).
 */
public final class StartupWarmup {
    private StartupWarmup() {}

    public static void start() {
        Thread t = new Thread(StartupWarmup::run, "br-warmup");
        t.setDaemon(true);
        t.start();
    }

    private static void run() {
        try {
            EmbeddedChannel ch = new EmbeddedChannel(
                    new HttpServerCodec(),
                    new HttpServerKeepAliveHandler(),
                    new RequestAggregator(1024),
                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
                            ctx.writeAndFlush(Responses.json(ctx, HttpResponseStatus.OK, "{\"status\":\"ok\"}"));
                        }
                    });
            ch.writeInbound(
                    Unpooled.copiedBuffer("GET /healthz HTTP/1.1\r\nHost: warmup\r\n\r\n", StandardCharsets.US_ASCII));
            ch.finishAndReleaseAll();
            Http2FrameCodecBuilder.forServer().build();
            Json.MAPPER.readTree("{\"model\":\"warmup\",\"messages\":[]}");
        } catch (IOException | RuntimeException e) {
            // only a head start; the same classes load on first use otherwise
        }
    }
}
