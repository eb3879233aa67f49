package io.brainstorm.proxy.config;

/**
 * A gateway API key written in config. Only its SHA-256 is kept.
 *
 * @param name   a label for logs and the audit trail
 * @param sha256 lower-case hex SHA-256 of the full {@code br_live_…} key
 * @param tenant the tenant it belongs to ({@code default} unless named)
 */
public record KeyConfig(String name, String sha256, String tenant) {
}
