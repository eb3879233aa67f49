package io.brainstorm.proxy.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * An OpenAI-compatible upstream on loopback that answers every chat completion at once and never
 * fails: a plain answer, or (for {@code "stream":true}) a short SSE stream with a usage chunk and
 * {@code [DONE]}. For load runs, where the upstream must never be the bottleneck or the cause of
 * an error ({@link FakeUpstream} scripts faults; the built-in sim has deliberate ones).
 *
 * <p><b>Threading.</b> Its own event loops (not pinned to any CPU); the handler keeps no state
 * but a counter.
 *
 * <p><b>Reference counting.</b> The aggregated request is released by
 * {@link SimpleChannelInboundHandler}; each answer's buffers are made here and released by the
 * writes. Buffers come from an unpooled allocator without leak tracking: at thousands of requests
 * a second, the test JVM's {@code PARANOID} detection would make this upstream the bottleneck.
 */
final class InstantUpstream implements AutoCloseable {
    private static final String PLAIN = """
            {"id":"chatcmpl-instant","object":"chat.completion","created":1700000000,"model":"alpha",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the instant upstream."},\
            "finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}""";
    private static final String STREAM = ""
            + "data: {\"id\":\"chatcmpl-instant\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
            + "\"model\":\"alpha\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello \"}}]}\n\n"
            + "data: {\"id\":\"chatcmpl-instant\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
            + "\"model\":\"alpha\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"from the instant upstream.\"},"
            + "\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"chatcmpl-instant\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
            + "\"model\":\"alpha\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":7,"
            + "\"total_tokens\":17}}\n\n"
            + "data: [DONE]\n\n";

    private final EventLoopGroup group;
    private final Channel server;
    final LongAdder answered = new LongAdder();

    /** @param threads event loops answering */
    InstantUpstream(int threads) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.ALLOCATOR, alloc)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024), new Answer());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The base URL a provider's {@code base_url} names. */
    String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean stream = req.content().toString(StandardCharsets.UTF_8).contains("\"stream\":true");
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (stream) {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
                HttpUtil.setTransferEncodingChunked(head, true);
                HttpUtil.setKeepAlive(head, keepAlive);
                ctx.write(head);
                ctx.write(new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), STREAM)));
                done(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
            } else {
                ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), PLAIN);
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
                r.headers()
                        .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                HttpUtil.setKeepAlive(r, keepAlive);
                done(ctx.writeAndFlush(r), keepAlive);
            }
            answered.increment();
        }

        private void done(ChannelFuture written, boolean keepAlive) {
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
