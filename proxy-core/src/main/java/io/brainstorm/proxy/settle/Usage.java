package io.brainstorm.proxy.settle;

/**
 * Token counts of one answer, as the provider reported them, in OpenAI's terms ({@code usage}),
 * with the prompt tokens a provider such as Anthropic wrote to its cache kept apart, since they are
 * priced apart ({@link Cost#nanoUsd}).
 *
 * <p>{@code promptTokens} counts every prompt token: those read from the cache, those written to
 * it and the rest. So {@code cachedPromptTokens + cacheWriteTokens + cacheWrite1hTokens <=
 * promptTokens}, and {@link #uncachedPromptTokens()} is what is left.
 *
 * @param promptTokens       all prompt tokens, cached and cache-written ones included
 * @param completionTokens   all completion tokens, reasoning tokens included
 * @param cachedPromptTokens prompt tokens served from the provider's cache ({@code
 *     prompt_tokens_details.cached_tokens}; Anthropic's {@code cache_read_input_tokens})
 * @param reasoningTokens    of the completion tokens, how many were reasoning ({@code
 *     completion_tokens_details.reasoning_tokens}); 0 when the provider does not say
 * @param cacheWriteTokens   prompt tokens written to the provider's cache with its default (for
 *     Anthropic, five-minute) lifetime: Anthropic's {@code cache_creation.ephemeral_5m_input_tokens},
 *     or its whole {@code cache_creation_input_tokens} when it gives no breakdown
 * @param cacheWrite1hTokens prompt tokens written to the cache with a one-hour lifetime (Anthropic's
 *     {@code cache_creation.ephemeral_1h_input_tokens})
 */
public record Usage(
        long promptTokens,
        long completionTokens,
        long cachedPromptTokens,
        long reasoningTokens,
        long cacheWriteTokens,
        long cacheWrite1hTokens) {
    public static final Usage ZERO = new Usage(0, 0, 0, 0);

    public Usage {
        if (promptTokens < 0
                || completionTokens < 0
                || cachedPromptTokens < 0
                || reasoningTokens < 0
                || cacheWriteTokens < 0
                || cacheWrite1hTokens < 0) {
            throw new IllegalArgumentException("usage: " + promptTokens + "/" + completionTokens + "/"
                    + cachedPromptTokens + "/" + reasoningTokens + "/" + cacheWriteTokens + "/" + cacheWrite1hTokens
                    + " (expected: all >= 0)");
        }
        if (cachedPromptTokens > promptTokens) {
            throw new IllegalArgumentException(
                    "cachedPromptTokens: " + cachedPromptTokens + " (expected: <= promptTokens " + promptTokens + ")");
        }
        // subtracting from promptTokens, not adding the parts, so that no sum can overflow
        if (cacheWriteTokens > promptTokens - cachedPromptTokens
                || cacheWrite1hTokens > promptTokens - cachedPromptTokens - cacheWriteTokens) {
            throw new IllegalArgumentException("cacheWriteTokens: " + cacheWriteTokens + " + cacheWrite1hTokens: "
                    + cacheWrite1hTokens + " (expected: <= promptTokens " + promptTokens + " - cachedPromptTokens "
                    + cachedPromptTokens + ")");
        }
    }

    /** Counts without cache writes, as OpenAI-type providers report them. */
    public Usage(long promptTokens, long completionTokens, long cachedPromptTokens, long reasoningTokens) {
        this(promptTokens, completionTokens, cachedPromptTokens, reasoningTokens, 0, 0);
    }

    /** Prompt tokens neither read from nor written to the cache: billed at the plain input price. */
    public long uncachedPromptTokens() {
        return promptTokens - cachedPromptTokens - cacheWriteTokens - cacheWrite1hTokens;
    }

    /** Prompt tokens written to the cache, whatever their lifetime. */
    public long allCacheWriteTokens() {
        return cacheWriteTokens + cacheWrite1hTokens;
    }
}
