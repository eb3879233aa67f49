package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.route.AnthropicTarget;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.translate.AnthropicErrors;
import io.brainstorm.proxy.translate.AnthropicRequest;
import io.brainstorm.proxy.translate.AnthropicResponse;
import io.brainstorm.proxy.translate.AnthropicStreamTranslator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of an OpenAI chat request at an Anthropic endpoint ({@link AnthropicTarget}): the
 * request translated into Anthropic's Messages format ({@link AnthropicRequest}), and the answer
 * translated back ({@link AnthropicResponse}, {@link AnthropicStreamTranslator},
 * {@link AnthropicErrors}), so everything after it (the answer check, scoring, usage, the client's
 * bytes) sees an OpenAI answer. Made per attempt, since failover may go from an Anthropic endpoint
 * to another kind and back.
 *
 * <p><b>Errors.</b> {@link #of} throws {@link ApiError} (400) when the request asks for what
 * Anthropic cannot do ({@code n: 2}, {@code logit_bias}, …): the endpoint is unsuited, not at
 * fault ({@link Attempts#unsuited}).
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class AnthropicAttempt {
    private final Endpoint endpoint;
    private final AnthropicTarget target;
    /** The OpenAI client's request translated; null for a Messages client, whose own bytes go. */
    private final AnthropicRequest.@Nullable Translation translation;
    /** The Messages client whose request passes through, or null. */
    private final @Nullable MessagesClient messages;

    private AnthropicAttempt(
            Endpoint endpoint,
            AnthropicTarget target,
            AnthropicRequest.@Nullable Translation translation,
            @Nullable MessagesClient messages) {
        this.endpoint = endpoint;
        this.target = target;
        this.translation = translation;
        this.messages = messages;
    }

    /**
     * The attempt of {@code request} at {@code endpoint}, or null when the endpoint speaks OpenAI's
     * format (its body is the client's, patched).
     *
     * @throws ApiError (400) when the request cannot be sent to Anthropic
     */
    static @Nullable AnthropicAttempt of(ParsedRequest request, Endpoint endpoint, @Nullable MessagesClient messages) {
        AnthropicTarget target = endpoint.anthropic();
        if (target == null) {
            return null;
        }
        if (messages != null) {
            return new AnthropicAttempt(endpoint, target, null, messages);
        }
        AnthropicRequest.Translation t =
                AnthropicRequest.translate(request.tree(), endpoint.upstreamModel(), target.defaultMaxTokens());
        return new AnthropicAttempt(endpoint, target, t, null);
    }

    /**
     * Whether a Messages client's request passes through: its bytes go upstream with only the model
     * renamed, and Anthropic's answer goes back as it came (its translation is for the gateway alone).
     */
    boolean passThrough() {
        return messages != null;
    }

    /** The Messages body: a new buffer the caller owns. */
    ByteBuf body(ByteBufAllocator alloc) {
        MessagesClient m = messages;
        if (m != null) {
            return m.nativeBody(alloc, endpoint.upstreamModel());
        }
        return ByteBufUtil.writeUtf8(
                alloc, Json.write(java.util.Objects.requireNonNull(translation).body()));
    }

    /** The tool that carries a {@code response_format} answer, or null. */
    private @Nullable String forcedTool() {
        return translation == null ? null : translation.forcedTool();
    }

    /** Sets the key and version headers, and the client's {@code anthropic-beta} flags the account allows. */
    void headers(HttpHeaders h, String key) {
        String clientBeta = messages == null ? null : messages.beta();
        // a Messages client's body is written for its own version, and passes through as it is
        String clientVersion = messages == null ? null : messages.version();
        String version = clientVersion != null && !clientVersion.isBlank() ? clientVersion : target.version();
        for (Map.Entry<String, String> e : AnthropicRequest.headers(key, version, clientBeta, target.allowedBetas())
                .entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
        h.remove(HttpHeaderNames.AUTHORIZATION);
    }

    /**
     * A 2xx message as OpenAI's {@code chat.completion}: the body to check, score and send, and the
     * usage to charge (with cache writes, which OpenAI's usage object cannot say).
     *
     * @return null when {@code body} is not an Anthropic message (the attempt's answer is invalid)
     */
    @Nullable
    Answer answer(ByteBuf body, ByteBufAllocator alloc) {
        JsonNode message;
        try {
            message = Json.read(body);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (message == null) {
            return null;
        }
        AnthropicResponse.Completion c;
        try {
            c = AnthropicResponse.translate(
                    message, endpoint.model().id(), System.currentTimeMillis() / 1000, forcedTool());
        } catch (ApiError e) {
            return null;
        }
        return new Answer(
                ByteBufUtil.writeUtf8(alloc, Json.write(c.body())), c.usage().toSettle());
    }

    /** The translated answer: OpenAI's JSON (a new buffer the caller owns) and its usage. */
    record Answer(ByteBuf body, Usage usage) {}

    /**
     * A non-2xx answer from Anthropic that reached the client (not failed over) in OpenAI's error
     * shape; a new buffer the caller owns.
     */
    ByteBuf error(int status, ByteBuf body, @Nullable String retryAfter, ByteBufAllocator alloc) {
        String text = body.toString(StandardCharsets.UTF_8);
        return ByteBufUtil.writeUtf8(
                alloc, AnthropicErrors.of(status, text, retryAfter).toJson());
    }

    /**
     * The translator for this attempt's stream. It always makes the usage chunk: the relay settles
     * with it and sends it only when the client asked ({@code stream_options.include_usage}).
     */
    AnthropicStreamTranslator streamTranslator() {
        return new AnthropicStreamTranslator(
                endpoint.model().id(), System.currentTimeMillis() / 1000, true, forcedTool() != null);
    }
}
