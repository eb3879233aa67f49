package io.brainstorm.proxy.auth;

import java.time.Instant;

/**
 * A tenant: the owner of API keys, admin keys and provider keys (docs/architecture.md §6). Nothing of one tenant
 * is visible to another.
 *
 * @param id        lower-case letters, digits, '-' and '_', 1 to 64 characters; {@code default} always exists
 * @param name      a display name
 * @param createdAt when it was created ({@link Instant#EPOCH} for tenants that come from config)
 * @param source    {@code config} (named by {@code conf/brainstorm.yaml}, or {@code default}) or {@code admin}
 */
public record Tenant(String id, String name, Instant createdAt, String source) {}
