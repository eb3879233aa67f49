package io.brainstorm.proxy.e2e;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A minimal HTTP/2 client with prior knowledge (no upgrade): one connection, one Netty stream
 * channel per request, each response aggregated whole (trailers included). Test-only.
 */
final class H2Client implements AutoCloseable {
    /**
     * A whole response copied out of Netty's buffers, so tests need not release anything.
     *
     * @param headerFrames every HEADERS frame as it arrived (the HTTP/1 view drops {@code trailer})
     */
    record Response(
            int status, HttpHeaders headers, String body, HttpHeaders trailers, List<Http2Headers> headerFrames) {}

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final Channel connection;

    H2Client(int port) throws InterruptedException {
        connection = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(
                                        Http2FrameCodecBuilder.forClient().build(),
                                        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect("127.0.0.1", port)
                .sync()
                .channel();
    }

    CompletableFuture<Response> post(String path, String apiKey, String json, Map<String, String> extraHeaders) {
        FullHttpRequest req = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1, HttpMethod.POST, path, Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        req.headers()
                .set(HttpHeaderNames.HOST, "127.0.0.1")
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, req.content().readableBytes());
        if (apiKey != null) {
            req.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        }
        extraHeaders.forEach(req.headers()::set);
        return send(req);
    }

    CompletableFuture<Response> send(FullHttpRequest req) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        List<Http2Headers> headerFrames = new CopyOnWriteArrayList<>();
        new Http2StreamChannelBootstrap(connection)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline()
                                .addLast(
                                        new ChannelInboundHandlerAdapter() {
                                            @Override
                                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                                if (msg instanceof Http2HeadersFrame frame) {
                                                    headerFrames.add(frame.headers());
                                                }
                                                ctx.fireChannelRead(msg);
                                            }
                                        },
                                        new Http2StreamFrameToHttpObjectCodec(false),
                                        new HttpObjectAggregator(64 * 1024 * 1024),
                                        new SimpleChannelInboundHandler<FullHttpResponse>() {
                                            @Override
                                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                                result.complete(new Response(
                                                        r.status().code(),
                                                        r.headers().copy(),
                                                        r.content().toString(StandardCharsets.UTF_8),
                                                        r.trailingHeaders().copy(),
                                                        List.copyOf(headerFrames)));
                                            }

                                            @Override
                                            public void channelInactive(ChannelHandlerContext ctx) {
                                                result.completeExceptionally(
                                                        new IllegalStateException("stream closed without a response"));
                                                ctx.fireChannelInactive();
                                            }

                                            @Override
                                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                                result.completeExceptionally(cause);
                                                ctx.close();
                                            }
                                        });
                    }
                })
                .open()
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        req.release();
                        result.completeExceptionally(f.cause());
                        return;
                    }
                    Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                    stream.writeAndFlush(req).addListener(w -> {
                        if (!w.isSuccess() && !result.isDone()) {
                            // the server may answer (413) and reset before the whole body left; the answer wins
                            stream.eventLoop()
                                    .schedule(
                                            () -> {
                                                result.completeExceptionally(w.cause());
                                            },
                                            2,
                                            TimeUnit.SECONDS);
                        }
                    });
                });
        return result;
    }

    @Override
    public void close() {
        connection.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
