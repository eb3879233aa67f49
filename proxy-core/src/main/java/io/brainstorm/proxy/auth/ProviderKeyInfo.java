package io.brainstorm.proxy.auth;

import java.time.Instant;

/**
 * What may be shown of a tenant's provider key (BYOK): never the key.
 *
 * @param tenant      the owner
 * @param provider    the provider account's name from {@code brainstorm.yaml} ({@code openai}, {@code groq}, …)
 * @param fingerprint {@code sha256:} and the first 8 hex digits of the key's SHA-256
 * @param createdAt   when it was set ({@link Instant#EPOCH} for keys from config)
 * @param source      {@code config} or {@code admin}
 */
public record ProviderKeyInfo(String tenant, String provider, String fingerprint, Instant createdAt, String source) {}
