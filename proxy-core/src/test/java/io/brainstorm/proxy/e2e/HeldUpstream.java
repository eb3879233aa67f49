package io.brainstorm.proxy.e2e;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible upstream on a loopback port 0 whose every chat completion reports the same
 * real usage, and which can hold its answers back: while held, requests are received (and counted)
 * but not answered, so a test knows exactly which requests are in flight at the gateway, with
 * their budget reservations held.
 *
 * <p><b>Threading:</b> one event loop serves every connection; {@link #hold} and {@link #answer}
 * run on it too, so a request is either parked before the answer-all or answered after it.
 */
final class HeldUpstream implements AutoCloseable {
    private final LoopbackHttpServer server;
    private final String answer;
    /** Parked requests, on the event loop only. */
    private final Queue<ChannelHandlerContext> parked = new ArrayDeque<>();

    private boolean held;
    final AtomicInteger received = new AtomicInteger();
    /** Answers written (whether or not the gateway read them). */
    final AtomicInteger answered = new AtomicInteger();

    /** Every answer reports {@code promptTokens} and {@code completionTokens} as its usage. */
    HeldUpstream(int promptTokens, int completionTokens) throws InterruptedException {
        answer = """
                {"id":"chatcmpl-held","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",\
                "choices":[{"index":0,"message":{"role":"assistant","content":"held"},"finish_reason":"stop"}],\
                "usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}""".formatted(promptTokens, completionTokens, promptTokens + completionTokens);
        server = LoopbackHttpServer.start(Handler::new);
    }

    String baseUrl() {
        return server.baseUrl();
    }

    /** From now on, requests wait for {@link #answer}. */
    void hold() throws InterruptedException {
        server.loop().submit(() -> held = true).sync();
    }

    /** Answers every parked request, and those that come later at once. */
    void answer() throws InterruptedException {
        server.loop()
                .submit(() -> {
                    held = false;
                    for (ChannelHandlerContext ctx; (ctx = parked.poll()) != null; ) {
                        write(ctx);
                    }
                })
                .sync();
    }

    private void write(ChannelHandlerContext ctx) {
        FullHttpResponse r = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer(answer, StandardCharsets.UTF_8));
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        answered.incrementAndGet();
        ctx.writeAndFlush(r);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            received.incrementAndGet();
            if (held) {
                parked.add(ctx);
            } else {
                write(ctx);
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
