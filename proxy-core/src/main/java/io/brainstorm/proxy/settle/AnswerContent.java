package io.brainstorm.proxy.settle;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What an answer said, as the scorer needs it: the first choice's content, its tool calls and its
 * finish reason. From a whole answer, or assembled from a stream's deltas by {@link StreamCapture}.
 *
 * @param content      the message content, or null when there was none
 * @param toolCalls    the tool calls, in index order (empty when none)
 * @param finishReason the finish reason, or null when the answer gave none
 */
public record AnswerContent(
        @Nullable String content,
        List<ToolCall> toolCalls,
        @Nullable String finishReason) {
    public AnswerContent {
        toolCalls = List.copyOf(toolCalls);
    }

    /** One tool call: the function's name and its arguments as the model wrote them (JSON text, maybe broken). */
    public record ToolCall(@Nullable String name, String arguments) {}
}
