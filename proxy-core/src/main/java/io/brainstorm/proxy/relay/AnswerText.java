package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.settle.AnswerContent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;

/**
 * The prompt and the answer as text, for completion records when the audit records content
 * ({@code audit.record_content}); never used otherwise, so plain requests are not parsed for it.
 */
final class AnswerText {
    private AnswerText() {
    }

    /** The request's {@code messages} (chat) or {@code input} (embeddings) as JSON text, or null. */
    static String prompt(JsonNode body) {
        JsonNode m = body.has("messages") ? body.get("messages") : body.get("input");
        return m == null ? null : m.toString();
    }

    /** A whole answer's first choice: its content, or its tool calls as JSON; null when unreadable. Indexes untouched. */
    static String of(ByteBuf answer) {
        try {
            JsonNode root = ParsedRequest.JSON.readTree(new ByteBufInputStream(answer.duplicate()));
            JsonNode message = root == null ? null : root.path("choices").path(0).path("message");
            if (message == null || message.isMissingNode()) {
                return null;
            }
            JsonNode calls = message.get("tool_calls");
            if (calls != null && calls.isArray() && !calls.isEmpty()) {
                return calls.toString();
            }
            JsonNode content = message.get("content");
            return content == null || content.isNull() ? null : content.asText();
        } catch (IOException e) {
            return null;
        }
    }

    /** What a stream said: its content, or its tool calls as JSON. */
    static String of(AnswerContent answer) {
        if (!answer.toolCalls().isEmpty()) {
            ArrayNode a = ParsedRequest.JSON.createArrayNode();
            for (AnswerContent.ToolCall c : answer.toolCalls()) {
                a.addObject().put("name", c.name()).put("arguments", c.arguments());
            }
            return a.toString();
        }
        return answer.content();
    }
}
