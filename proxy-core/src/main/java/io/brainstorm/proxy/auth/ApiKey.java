package io.brainstorm.proxy.auth;

/**
 * A gateway API key as the gateway knows it: never the secret itself.
 *
 * @param id     a stable id derived from the hash (safe to log and audit)
 * @param name   the label given at creation
 * @param tenant the tenant that owns it
 * @param sha256 lower-case hex SHA-256 of the secret
 * @param limits its daily budget and rate limits
 */
public record ApiKey(String id, String name, String tenant, String sha256, KeyLimits limits) {
    /** A key without budget or rate limits. */
    public static ApiKey of(String name, String tenant, String sha256) {
        return of(name, tenant, sha256, KeyLimits.NONE);
    }

    public static ApiKey of(String name, String tenant, String sha256, KeyLimits limits) {
        return new ApiKey("key_" + sha256.substring(0, 12), name, tenant, sha256, limits);
    }
}
