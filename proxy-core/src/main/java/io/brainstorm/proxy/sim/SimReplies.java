package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How {@link SimHandler} ends a request that it does not stream: a whole JSON answer, an
 * OpenAI-shaped error, or a reset. Each counts the request as served on the sim's server.
 *
 * <p><b>Threading.</b> Keeps no state of its own, like the handler that owns it; called on the
 * channel's event loop.
 */
final class SimReplies {

    private final SimServer server;
    private final ObjectMapper json;

    SimReplies(SimServer server) {
        this.server = server;
        this.json = server.json();
    }

    /** Closes with RST (SO_LINGER 0) so the client sees a reset, not an orderly end. */
    void reset(Channel channel) {
        server.served();
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }

    void badField(ChannelHandlerContext ctx, String param, @Nullable String message) {
        error(ctx, HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "invalid_request", param, message);
    }

    void error(
            ChannelHandlerContext ctx,
            HttpResponseStatus status,
            String type,
            String code,
            @Nullable String param,
            @Nullable String message) {
        respond(ctx, status, errorBody(type, code, param, message), null);
    }

    ObjectNode errorBody(String type, String code, @Nullable String param, @Nullable String message) {
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }

    /** Writes a whole JSON response and counts the request as served. */
    void respond(
            ChannelHandlerContext ctx, HttpResponseStatus status, JsonNode body, @Nullable Map<String, String> extra) {
        server.served();
        if (!ctx.channel().isActive()) {
            return;
        }
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("sim: cannot write a response", e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, status, ctx.alloc().buffer(bytes.length).writeBytes(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (extra != null) {
            extra.forEach(response.headers()::set);
        }
        ctx.writeAndFlush(response);
    }
}
