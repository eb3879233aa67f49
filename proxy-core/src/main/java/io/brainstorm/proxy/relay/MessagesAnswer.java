package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.translate.MessagesErrors;
import io.brainstorm.proxy.translate.MessagesResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A whole answer from an OpenAI-format endpoint as a Messages client gets it: the
 * {@code chat.completion} as an Anthropic {@code message} ({@link MessagesResponse}), an error in
 * Anthropic's error shape ({@link MessagesErrors}); and the gateway's own error answers in that
 * shape too. Indexes of the given body are untouched; each result but the rewritten error response
 * is a new buffer the caller owns.
 *
 * <p><b>Threading.</b> Stateless.
 */
final class MessagesAnswer {
    private MessagesAnswer() {}

    /**
     * The message for a checked {@code chat.completion}.
     *
     * @throws ApiError (502) when it cannot be read, which the answer check has ruled out
     */
    static ByteBuf message(ByteBuf completion, String requestId, MessagesClient client, ByteBufAllocator alloc) {
        JsonNode tree;
        try {
            tree = Json.read(completion);
        } catch (IOException e) {
            throw ApiError.upstreamInvalidResponse("The provider's answer could not be read: " + e.getMessage());
        }
        if (tree == null) {
            throw ApiError.upstreamInvalidResponse("The provider's answer was empty.");
        }
        MessagesResponse.Message m = MessagesResponse.translate(tree, requestId, client.clientModel());
        return ByteBufUtil.writeUtf8(alloc, Json.write(m.body()));
    }

    /** An OpenAI-shaped error answer with {@code status} in Anthropic's shape. */
    static ByteBuf error(int status, ByteBuf body, ByteBufAllocator alloc) {
        String text = body.toString(StandardCharsets.UTF_8);
        return ByteBufUtil.writeUtf8(alloc, MessagesErrors.of(status, text).toJson());
    }
}
