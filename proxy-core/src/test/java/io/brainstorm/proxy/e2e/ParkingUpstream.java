package io.brainstorm.proxy.e2e;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
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
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible upstream on a loopback port 0 that answers as a real server does: a whole
 * answer, or an SSE stream ending in a usage chunk and {@code [DONE]} when the request says
 * {@code "stream":true}, on keep-alive connections. Each answer's usage differs a little (request
 * number {@code n} reports {@code 10 + n % 3} prompt and {@code 1 + n % 5} completion tokens), so
 * sums of costs are not multiples of one figure. It can park requests ({@link #park}): received and
 * counted, answered only at {@link #answerParked}, so a test knows which requests are in flight with
 * their budget holds.
 *
 * <p><b>Threading:</b> one event loop serves every connection; {@link #park} and
 * {@link #answerParked} run on it too, so a request is either parked before the answer-all or
 * answered after it.
 */
final class ParkingUpstream implements AutoCloseable {
    private final LoopbackHttpServer server;
    /** Parked requests, on the event loop only. */
    private final Queue<Parked> parked = new ArrayDeque<>();

    private boolean parking;
    final AtomicInteger received = new AtomicInteger();
    final AtomicInteger parkedNow = new AtomicInteger();

    private record Parked(ChannelHandlerContext ctx, boolean stream, int n) {}

    ParkingUpstream() throws InterruptedException {
        server = LoopbackHttpServer.start(Handler::new);
    }

    String baseUrl() {
        return server.baseUrl();
    }

    /** From now on, requests wait for {@link #answerParked}. */
    void park() throws InterruptedException {
        server.loop().submit(() -> parking = true).sync();
    }

    /** Answers every parked request whose client is still there, and those that come later at once. */
    void answerParked() throws InterruptedException {
        server.loop()
                .submit(() -> {
                    parking = false;
                    for (Parked p; (p = parked.poll()) != null; ) {
                        parkedNow.decrementAndGet();
                        if (p.ctx().channel().isActive()) {
                            answer(p.ctx(), p.stream(), p.n());
                        }
                    }
                })
                .sync();
    }

    private static void answer(ChannelHandlerContext ctx, boolean stream, int n) {
        int prompt = 10 + n % 3;
        int completion = 1 + n % 5;
        String usage = "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}"
                .formatted(prompt, completion, prompt + completion);
        if (!stream) {
            String json = """
                    {"id":"chatcmpl-p%d","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",\
                    "choices":[{"index":0,"message":{"role":"assistant","content":"parked %d"},"finish_reason":"stop"}],\
                    %s}""".formatted(n, n, usage);
            FullHttpResponse r = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
            r.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            ctx.writeAndFlush(r);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.write(head);
        String chunk = "data: {\"id\":\"chatcmpl-p" + n
                + "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",";
        String events =
                chunk + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"parked \"}}]}\n\n"
                        + chunk + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + n
                        + "\"},\"finish_reason\":\"stop\"}]}\n\n"
                        + chunk + "\"choices\":[]," + usage + "}\n\n"
                        + "data: [DONE]\n\n";
        ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(events, StandardCharsets.UTF_8)));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            int n = received.getAndIncrement();
            boolean stream = req.content()
                    .toString(StandardCharsets.UTF_8)
                    .replace(" ", "")
                    .contains("\"stream\":true");
            if (parking) {
                parked.add(new Parked(ctx, stream, n));
                parkedNow.incrementAndGet();
            } else {
                answer(ctx, stream, n);
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
