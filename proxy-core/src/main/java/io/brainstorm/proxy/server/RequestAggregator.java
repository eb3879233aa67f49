package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.ApiError;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;

/**
 * {@link HttpObjectAggregator} whose answer to an oversized body is OpenAI's 413 JSON
 * ({@code request_too_large}). The connection is closed after it, since the rest of the body was
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
        FullHttpResponse response = Responses.error(ctx, ApiError.tooLarge(maxBodyBytes), null);
        boolean http1 = !(ctx.channel() instanceof io.netty.handler.codec.http2.Http2StreamChannel);
        if (http1) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
