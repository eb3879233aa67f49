package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.translate.MessagesErrors;
import io.brainstorm.proxy.translate.MessagesRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * A client of the Anthropic Messages API ({@code POST /v1/messages}: Claude Code, the Anthropic
 * SDKs): its request as it sent it, and the same request in OpenAI's chat shape
 * ({@link MessagesRequest}), which the gateway parses, routes, admits and scores like any chat
 * request. At an Anthropic endpoint the client's own bytes go upstream with only {@code model}
 * renamed, and Anthropic's answer comes back as it is; at an OpenAI-format endpoint the OpenAI
 * request goes, and its answer is translated back ({@code MessagesResponse}, {@code MessagesStream}).
 *
 * <p><b>Errors.</b> {@link #parse} throws {@link ApiError} (400) for a body that is not JSON or
 * cannot be said in OpenAI's shape; the caller answers it in Anthropic's error shape.
 *
 * <p><b>Threading.</b> Immutable once made; read on the request's event loop.
 */
public final class MessagesClient {
    /** Where the Messages API is served (and {@code /count_tokens} below it). */
    public static final String PATH = "/v1/messages";

    private final byte[] body;
    /** Where the top-level {@code model} string is in {@link #body} (its quotes included). */
    private final int modelStart;

    private final int modelEnd;
    private final MessagesRequest.Translation translation;
    private final @Nullable String beta;
    private final @Nullable String version;

    private MessagesClient(
            byte[] body,
            int modelStart,
            int modelEnd,
            MessagesRequest.Translation translation,
            @Nullable String beta,
            @Nullable String version) {
        this.version = version;
        this.body = body;
        this.modelStart = modelStart;
        this.modelEnd = modelEnd;
        this.translation = translation;
        this.beta = beta;
    }

    /**
     * Reads a Messages request; {@code content} is neither released nor moved.
     *
     * @param beta    the client's {@code anthropic-beta} header, or null
     * @param version the client's {@code anthropic-version} header, or null
     * @throws ApiError (400) when it is not a Messages request the gateway can serve
     */
    public static MessagesClient parse(ByteBuf content, @Nullable String beta, @Nullable String version) {
        if (!content.isReadable()) {
            throw ApiError.invalidRequest(null, "The request body is empty; expected a JSON object.");
        }
        byte[] bytes = ByteBufUtil.getBytes(content);
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(bytes);
        } catch (IOException | NumberFormatException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON.");
        }
        if (tree == null || !tree.isObject()) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        MessagesRequest.Translation t = MessagesRequest.translate(tree);
        int[] span = modelSpan(bytes);
        return new MessagesClient(bytes, span[0], span[1], t, beta, version);
    }

    /** Whether {@code uri} is one of the Messages API's paths, whose errors are in Anthropic's shape. */
    public static boolean isMessagesPath(String uri) {
        return uri.startsWith(PATH);
    }

    /**
     * The gateway's own error answer ({@link io.brainstorm.proxy.api.Responses#error}) for a
     * Messages client: its body said in Anthropic's shape ({@link MessagesErrors}), its status and
     * headers ({@code Retry-After}, {@code x-should-retry}, the request id) kept. The same
     * response, rewritten.
     */
    public static FullHttpResponse errorAnswer(FullHttpResponse openAi, ApiError error) {
        byte[] json = MessagesErrors.of(error).toJson().getBytes(StandardCharsets.UTF_8);
        openAi.content().clear().writeBytes(json);
        openAi.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
        return openAi;
    }

    /** The same request as an OpenAI chat body, for the gateway's parser: a buffer over a new array. */
    public ByteBuf openAiBody() {
        return Unpooled.wrappedBuffer(Json.write(translation.openAi()).getBytes(StandardCharsets.UTF_8));
    }

    /** The client's bytes with the top-level {@code model} set to {@code upstreamModel}: a new buffer the caller owns. */
    ByteBuf nativeBody(ByteBufAllocator alloc, String upstreamModel) {
        String quoted = Json.write(Json.MAPPER.getNodeFactory().textNode(upstreamModel));
        byte[] model = quoted.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = alloc.buffer(body.length - (modelEnd - modelStart) + model.length);
        out.writeBytes(body, 0, modelStart);
        out.writeBytes(model);
        out.writeBytes(body, modelEnd, body.length - modelEnd);
        return out;
    }

    /** The model name the client sent: every answer shows it. */
    String clientModel() {
        return translation.clientModel();
    }

    /**
     * The client's {@code anthropic-version} header, or null: its body is written for that
     * version, so it goes with the body to an Anthropic endpoint.
     */
    @Nullable
    String version() {
        return version;
    }

    /** The client's {@code anthropic-beta} header, or null. */
    @Nullable
    String beta() {
        return beta;
    }

    /**
     * Where the top-level {@code model} string value is in {@code bytes}: start and end offsets,
     * quotes included. The translation checked that there is one and that it is a string; the last
     * one counts, as in a tree.
     */
    private static int[] modelSpan(byte[] bytes) {
        int[] span = {-1, -1};
        try (JsonParser p = Json.MAPPER.getFactory().createParser(bytes)) {
            p.nextToken();
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if ("model".equals(name) && v == JsonToken.VALUE_STRING) {
                    span[0] = (int) p.currentTokenLocation().getByteOffset();
                    p.getTextLength(); // reads the whole string, so the location below is past it
                    span[1] = (int) p.currentLocation().getByteOffset();
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON.");
        }
        if (span[0] < 0) {
            throw ApiError.invalidRequest("model", "Missing 'model': a string naming the model to use.");
        }
        return span;
    }
}
