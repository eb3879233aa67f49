package io.brainstorm.proxy.settle;

/**
 * Token counts of one answer, as the provider reported them (OpenAI's {@code usage} object).
 *
 * @param promptTokens       all prompt tokens, cached ones included
 * @param completionTokens   all completion tokens, reasoning tokens included
 * @param cachedPromptTokens prompt tokens served from the provider's cache ({@code prompt_tokens_details.cached_tokens})
 * @param reasoningTokens    of the completion tokens, how many were reasoning ({@code completion_tokens_details.reasoning_tokens})
 */
public record Usage(long promptTokens, long completionTokens, long cachedPromptTokens, long reasoningTokens) {
    public static final Usage ZERO = new Usage(0, 0, 0, 0);

    public Usage {
        if (promptTokens < 0 || completionTokens < 0 || cachedPromptTokens < 0 || reasoningTokens < 0) {
            throw new IllegalArgumentException("usage: " + promptTokens + "/" + completionTokens + "/"
                    + cachedPromptTokens + "/" + reasoningTokens + " (expected: all >= 0)");
        }
        if (cachedPromptTokens > promptTokens) {
            throw new IllegalArgumentException(
                    "cachedPromptTokens: " + cachedPromptTokens + " (expected: <= promptTokens " + promptTokens + ")");
        }
    }
}
