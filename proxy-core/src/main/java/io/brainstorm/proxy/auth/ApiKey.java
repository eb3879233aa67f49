package io.brainstorm.proxy.auth;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A gateway key as the gateway knows it: never the secret itself.
 *
 * @param id            a stable id derived from the hash ({@code key_} + 12 hex digits; safe to log and audit)
 * @param name          the label given at creation
 * @param tenant        the tenant that owns it
 * @param sha256        lower-case hex SHA-256 of the secret
 * @param limits        its daily budget and rate limits
 * @param kind          {@link KeyKind#API} ({@code br_live_}) or {@link KeyKind#ADMIN} ({@code br_admin_})
 * @param allowedModels model ids it may use ({@code sim/alpha}), or {@code provider/*} for all of a
 *                      provider's; empty: every model
 * @param zone          the time zone whose midnight resets its daily budget (UTC unless set)
 * @param createdAt     when it was created ({@link Instant#EPOCH} for keys from config or the environment)
 * @param revokedAt     when it was revoked, or null while it is valid
 * @param source        {@code config}, {@code env}, {@code admin} or {@code demo}
 */
public record ApiKey(
        String id,
        String name,
        String tenant,
        String sha256,
        KeyLimits limits,
        KeyKind kind,
        List<String> allowedModels,
        ZoneId zone,
        Instant createdAt,
        @Nullable Instant revokedAt,
        String source) {

    public ApiKey {
        allowedModels = List.copyOf(allowedModels);
    }

    /** A key without budget or rate limits. */
    public static ApiKey of(String name, String tenant, String sha256) {
        return of(name, tenant, sha256, KeyLimits.NONE);
    }

    /** An API key from config: every model, UTC days. */
    public static ApiKey of(String name, String tenant, String sha256, KeyLimits limits) {
        return new ApiKey(
                idOf(sha256),
                name,
                tenant,
                sha256,
                limits,
                KeyKind.API,
                List.of(),
                ZoneOffset.UTC,
                Instant.EPOCH,
                null,
                "config");
    }

    /** The id of the key whose SHA-256 is {@code sha256}. */
    public static String idOf(String sha256) {
        return "key_" + sha256.substring(0, 12);
    }

    /** The time zone's name as people write it: {@code UTC} rather than {@code Z}. */
    public String zoneName() {
        return zone.normalized().equals(ZoneOffset.UTC) ? "UTC" : zone.getId();
    }

    public boolean revoked() {
        return revokedAt != null;
    }

    /** This key as revoked at {@code at}. */
    public ApiKey withRevokedAt(Instant at) {
        return new ApiKey(id, name, tenant, sha256, limits, kind, allowedModels, zone, createdAt, at, source);
    }

    /**
     * True when this key may use {@code modelId} ({@code provider/model}, no variant): the list is
     * empty, names it, or holds {@code provider/*} of its provider.
     */
    public boolean allows(String modelId) {
        if (allowedModels.isEmpty()) {
            return true;
        }
        for (String a : allowedModels) {
            if (a.equals(modelId) || a.endsWith("/*") && modelId.regionMatches(0, a, 0, a.length() - 1)) {
                return true;
            }
        }
        return false;
    }
}
