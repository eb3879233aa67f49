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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream on a loopback port 0 that answers every request with one exact response: a status,
 * a {@code Content-Type} (or none) and a body, with a correct {@code Content-Length}, on a
 * kept-alive connection. For answers that are well framed HTTP but not what they claim (a cut JSON
 * body, an HTML page under 200), which {@link FakeUpstream} does not script.
 */
final class RawAnswerUpstream implements AutoCloseable {
    /** One response: {@code contentType} null sends no {@code Content-Type}. */
    record Answer(int status, String contentType, String body) {}

    private final LoopbackHttpServer server;
    private volatile Answer answer;
    final AtomicInteger requests = new AtomicInteger();

    RawAnswerUpstream(Answer answer) throws InterruptedException {
        this.answer = answer;
        server = LoopbackHttpServer.start(() -> new SimpleChannelInboundHandler<FullHttpRequest>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                requests.incrementAndGet();
                Answer a = RawAnswerUpstream.this.answer;
                FullHttpResponse r = new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(a.status()),
                        Unpooled.copiedBuffer(a.body(), StandardCharsets.UTF_8));
                if (a.contentType() != null) {
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, a.contentType());
                }
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
                ctx.writeAndFlush(r);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
    }

    RawAnswerUpstream answer(Answer a) {
        answer = a;
        return this;
    }

    String baseUrl() {
        return server.baseUrl();
    }

    @Override
    public void close() {
        server.close();
    }
}
