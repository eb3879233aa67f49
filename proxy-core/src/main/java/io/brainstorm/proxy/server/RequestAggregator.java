package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.relay.MessagesClient;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link HttpObjectAggregator} whose answer to an oversized body is OpenAI's 413 JSON
 * ({@code request_too_large}), whether the body was sent or only announced with
 * {@code Expect: 100-continue}. On HTTP/1.1 the connection then stops writing and drains the
 * refused body for up to {@link #LINGER_SECONDS} before it closes (a lingering close), so a client
 * still sending reads the 413 rather than a reset. The admin listener uses it too.
 */
public final class RequestAggregator extends HttpObjectAggregator {
    /** How long an HTTP/1.1 connection keeps draining a refused body before it is closed. */
    static final long LINGER_SECONDS = 5;

    private final int maxBodyBytes;

    public RequestAggregator(int maxBodyBytes) {
        super(maxBodyBytes);
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (ctx.channel() instanceof DuplexChannel connection) {
            // HTTP/1.1: closing at once with the body unread makes the kernel reset the connection,
            // and a client still sending would see the reset instead of the 413. So: answer, stop
            // writing, and go on reading (the aggregator drops the rest of this body) until the
            // client closes or the linger time is up.
            ctx.writeAndFlush(tooLarge(ctx, false, oversized)).addListener(f -> {
                connection.shutdownOutput();
                ScheduledFuture<?> linger = ctx.executor()
                        .schedule(
                                () -> {
                                    ctx.close();
                                },
                                LINGER_SECONDS,
                                TimeUnit.SECONDS);
                ctx.channel().closeFuture().addListener(c -> linger.cancel(false));
            });
            ctx.channel().config().setAutoRead(true);
            return;
        }
        // an HTTP/2 stream: closing it resets only this stream
        ctx.writeAndFlush(tooLarge(ctx, true, oversized)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Replaces the aggregator's bodiless 413 to an {@code Expect: 100-continue} request with ours. */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
        if (isTooLarge(answer)) {
            ReferenceCountUtil.release(answer);
            return tooLarge(pipeline.context(this), true, start);
        }
        if (answer instanceof HttpResponse r && r.status().equals(HttpResponseStatus.EXPECTATION_FAILED)) {
            ReferenceCountUtil.release(answer);
            FullHttpResponse refused = ApiHandler.error(
                    pipeline.context(this),
                    ApiError.expectationFailed("Unsupported Expect header (expected: 100-continue)."),
                    RequestIds.next(),
                    messagesApi(start));
            HttpUtil.setKeepAlive(refused, false);
            return refused;
        }
        return answer;
    }

    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        // the client may send the refused body anyway, and the decoder would read it as the next request
        return isTooLarge(msg)
                || super.closeAfterContinueResponse(msg)
                || msg instanceof HttpResponse r && r.status().equals(HttpResponseStatus.EXPECTATION_FAILED);
    }

    private static boolean isTooLarge(Object msg) {
        return msg instanceof HttpResponse r && r.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
    }

    /** Whether the request is to the Messages API, whose errors are in Anthropic's shape. */
    private static boolean messagesApi(HttpMessage start) {
        return start instanceof HttpRequest r && MessagesClient.isMessagesPath(r.uri());
    }

    private FullHttpResponse tooLarge(ChannelHandlerContext ctx, boolean close, HttpMessage start) {
        // answered before ApiHandler sees the request, so the id is made here: every API answer has one
        FullHttpResponse response =
                ApiHandler.error(ctx, ApiError.tooLarge(maxBodyBytes), RequestIds.next(), messagesApi(start));
        if (close) {
            HttpUtil.setKeepAlive(response, false);
        }
        return response;
    }
}
