package io.brainstorm.proxy.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.jspecify.annotations.Nullable;

/** Builds the gateway's own complete responses (errors, health, model lists). */
public final class Responses {
    private Responses() {}

    public static FullHttpResponse json(ChannelHandlerContext ctx, HttpResponseStatus status, CharSequence json) {
        ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), json);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return r;
    }

    /** An OpenAI-shaped error response; 502 and 503 tell SDKs not to retry (the gateway already failed over). */
    public static FullHttpResponse error(ChannelHandlerContext ctx, ApiError error, @Nullable String requestId) {
        FullHttpResponse r = json(ctx, error.status(), error.toJson());
        if (requestId != null) {
            r.headers().set(Headers.REQUEST_ID, requestId);
        }
        if (error.retryAfterSeconds() >= 0) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, error.retryAfterSeconds());
        }
        if (error.allow() != null) {
            r.headers().set(HttpHeaderNames.ALLOW, error.allow());
        }
        if (error.status().code() == 502) {
            r.headers().set(Headers.SHOULD_RETRY, "false");
        }
        return r;
    }
}
