package io.brainstorm.proxy.config;

import java.util.Set;

/**
 * The settings of a {@code type: anthropic} provider account (docs/providers.md, "anthropic"):
 * requests go to {@code <base_url>/v1/messages} in Anthropic's Messages format, with the key in
 * {@code x-api-key}.
 *
 * @param version       the {@code anthropic-version} header sent ({@code anthropic_version},
 *                      default {@value #DEFAULT_VERSION})
 * @param allowedBetas  the {@code anthropic-beta} names a client may ask for ({@code anthropic_beta});
 *                      others are dropped, so a client cannot opt the account into a feature the
 *                      operator did not allow
 */
public record AnthropicConfig(String version, Set<String> allowedBetas) {
    /** The version of the Messages API the gateway speaks. */
    public static final String DEFAULT_VERSION = "2023-06-01";

    public AnthropicConfig {
        allowedBetas = Set.copyOf(allowedBetas);
    }
}
