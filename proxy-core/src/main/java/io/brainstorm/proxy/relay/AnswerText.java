package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.AnswerContent;
import io.brainstorm.proxy.settle.Scorer;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * The answer as text, for completion records when the audit records content
 * ({@code audit.record_content}; the prompt is {@code ParsedRequest.prompt()}); never used
 * otherwise, so plain answers are not parsed for it. A whole answer and a stream are read the same way (the scorer's reader), so tool calls are recorded
 * in one form: {@code [{"name","arguments"}]}.
 */
final class AnswerText {
    private AnswerText() {}

    /** A whole answer's first choice: its content, or its tool calls as JSON; null when unreadable. Indexes untouched. */
    static @Nullable String of(ByteBuf answer) {
        AnswerContent a = Scorer.readAnswer(answer);
        return a == null ? null : of(a);
    }

    /** What an answer said: its content, or its tool calls as JSON. */
    static @Nullable String of(AnswerContent answer) {
        if (!answer.toolCalls().isEmpty()) {
            ArrayNode a = Json.MAPPER.createArrayNode();
            for (AnswerContent.ToolCall c : answer.toolCalls()) {
                a.addObject().put("name", c.name()).put("arguments", c.arguments());
            }
            return a.toString();
        }
        return answer.content();
    }
}
