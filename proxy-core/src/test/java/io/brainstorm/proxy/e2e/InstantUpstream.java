package io.brainstorm.proxy.e2e;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
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

    private final LoopbackHttpServer server;
    final LongAdder answered = new LongAdder();

    /** @param threads event loops answering */
    InstantUpstream(int threads) throws InterruptedException {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
        server = LoopbackHttpServer.start(
                threads,
                b -> b.option(ChannelOption.SO_BACKLOG, 1024)
                        .childOption(ChannelOption.ALLOCATOR, alloc)
                        .childOption(ChannelOption.TCP_NODELAY, true),
                Answer::new);
    }

    int port() {
        return server.port();
    }

    /** The base URL a provider's {@code base_url} names. */
    String baseUrl() {
        return server.baseUrl();
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
        server.close();
    }
}
