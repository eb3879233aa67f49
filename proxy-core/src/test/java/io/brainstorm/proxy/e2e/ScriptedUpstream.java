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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible upstream on a loopback port 0 whose answer to each request is chosen by a
 * script from the request's provider key and its number (0, 1, 2 … in arrival order): for
 * failures that depend on who asks, or that follow a pattern. Records the provider key of every
 * request.
 */
final class ScriptedUpstream implements AutoCloseable {
    /** The answer: {@code status} (200 for a completion), and a {@code Retry-After} or null. */
    record Reply(int status, String retryAfter) {
        static final Reply OK = new Reply(200, null);
    }

    /** Chooses the reply to request number {@code n} sent with {@code authorization}. */
    interface Script {
        Reply reply(String authorization, int n);
    }

    private final LoopbackHttpServer server;
    private final Script script;
    private final AtomicInteger count = new AtomicInteger();
    /** The {@code Authorization} header of every request, in arrival order. */
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    ScriptedUpstream(Script script) throws InterruptedException {
        this.script = script;
        server = LoopbackHttpServer.start(Handler::new);
    }

    String baseUrl() {
        return server.baseUrl();
    }

    /** How many requests came with {@code authorization}. */
    long requestsWith(String authorization) {
        return authorizations.stream().filter(authorization::equals).count();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
            authorizations.add(auth);
            Reply r = script.reply(auth, count.getAndIncrement());
            String body = r.status() == 200
                    ? FakeUpstream.completion("gpt-4o-mini", "hello from the script")
                    : "{\"error\":{\"message\":\"scripted " + r.status() + "\",\"type\":\"api_error\",\"param\":null,"
                            + "\"code\":null}}";
            FullHttpResponse res = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(r.status()),
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            res.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
            if (r.retryAfter() != null) {
                res.headers().set(HttpHeaderNames.RETRY_AFTER, r.retryAfter());
            }
            ctx.writeAndFlush(res);
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
