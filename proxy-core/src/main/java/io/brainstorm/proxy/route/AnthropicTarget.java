package io.brainstorm.proxy.route;

import java.util.Set;

/**
 * How requests to one model at an Anthropic account go (docs/providers.md, "anthropic"): to
 * {@code <basePath>/v1/messages}, in Anthropic's Messages format (the relay translates OpenAI chat
 * requests and answers: {@code io.brainstorm.proxy.translate}), with the key in {@code x-api-key}
 * and the {@code anthropic-version} header.
 *
 * @param version          the {@code anthropic-version} header value
 * @param allowedBetas     the {@code anthropic-beta} names a client may pass on; others are dropped
 * @param defaultMaxTokens Anthropic requires {@code max_tokens}: the model's catalog limit, sent
 *                         when the client gave none
 */
public record AnthropicTarget(String version, Set<String> allowedBetas, int defaultMaxTokens) {
    /** Where Messages requests go, under the base path. */
    public static final String MESSAGES_PATH = "/v1/messages";

    public AnthropicTarget {
        allowedBetas = Set.copyOf(allowedBetas);
        if (defaultMaxTokens <= 0) {
            throw new IllegalArgumentException("defaultMaxTokens: " + defaultMaxTokens + " (expected: > 0)");
        }
    }
}
