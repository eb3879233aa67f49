package io.brainstorm.proxy.config;

import org.jspecify.annotations.Nullable;

/**
 * A gateway API key written in config. Only its SHA-256 is kept.
 *
 * @param name            a label for logs and the audit trail
 * @param sha256          lower-case hex SHA-256 of the full {@code br_live_…} key
 * @param tenant          the tenant it belongs to ({@code default} unless named)
 * @param dailyBudgetNano its daily budget in nano-USD, or {@link Long#MAX_VALUE} for none
 * @param rpm             requests per minute, 0 for no limit
 * @param tpm             tokens per minute, 0 for no limit
 * @param allowedModels   model ids (or {@code provider/*}) it may use; empty for all
 * @param zone            the time zone whose midnight resets its budget
 */
public record KeyConfig(
        String name,
        String sha256,
        @Nullable String tenant,
        long dailyBudgetNano,
        int rpm,
        long tpm,
        java.util.List<String> allowedModels,
        java.time.ZoneId zone) {
    public KeyConfig {
        allowedModels = java.util.List.copyOf(allowedModels);
    }

    /** A key without budget or rate limits. */
    public KeyConfig(String name, String sha256, String tenant) {
        this(name, sha256, tenant, Long.MAX_VALUE, 0, 0);
    }

    /** Every model, UTC days. */
    public KeyConfig(String name, String sha256, String tenant, long dailyBudgetNano, int rpm, long tpm) {
        this(name, sha256, tenant, dailyBudgetNano, rpm, tpm, java.util.List.of(), java.time.ZoneOffset.UTC);
    }
}
