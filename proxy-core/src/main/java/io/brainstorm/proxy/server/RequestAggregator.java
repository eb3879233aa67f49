package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.ApiError;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * {@link HttpObjectAggregator} whose answer to an oversized body is OpenAI's 413 JSON
 * ({@code request_too_large}), whether the body was sent or only announced with
 * {@code Expect: 100-continue}. The connection is closed after it, since the rest of the body was
 * not read.
 */
final class RequestAggregator extends HttpObjectAggregator {
    private final int maxBodyBytes;

    RequestAggregator(int maxBodyBytes) {
        super(maxBodyBytes);
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ctx.writeAndFlush(tooLarge(ctx)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Replaces the aggregator's bodiless 413 to an {@code Expect: 100-continue} request with ours. */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
        if (isTooLarge(answer)) {
            ReferenceCountUtil.release(answer);
            return tooLarge(pipeline.context(this));
        }
        return answer;
    }

    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        // the client may send the refused body anyway, and the decoder would read it as the next request
        return isTooLarge(msg) || super.closeAfterContinueResponse(msg);
    }

    private static boolean isTooLarge(Object msg) {
        return msg instanceof HttpResponse r && r.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
    }

    private FullHttpResponse tooLarge(ChannelHandlerContext ctx) {
        // answered before ApiHandler sees the request, so the id is made here: every API answer has one
        FullHttpResponse response = Responses.error(ctx, ApiError.tooLarge(maxBodyBytes), RequestIds.next());
        boolean http1 = !(ctx.channel() instanceof io.netty.handler.codec.http2.Http2StreamChannel);
        if (http1) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        HttpUtil.setKeepAlive(response, false);
        return response;
    }
}
