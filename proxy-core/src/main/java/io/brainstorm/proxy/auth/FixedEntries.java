package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.config.KeyConfig;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What config and the environment define for a {@link Registry}: keys from {@code brainstorm.yaml}
 * and {@code BR_API_KEY}, the tenants they name, provider keys from config, the provider accounts and
 * the hash of {@code BR_ADMIN_TOKEN}. Fixed for the life of the registry, never written to its file.
 *
 * <p><b>Threading:</b> immutable.
 *
 * @param keys             by SHA-256, in config order, {@code BR_API_KEY}'s last
 * @param tenants          {@code default} and every tenant a config key or provider key names, by id
 * @param providerKeys     by {@link RegistryState#slot}
 * @param providers        the provider accounts that exist
 * @param adminTokenSha256 {@code BR_ADMIN_TOKEN}'s SHA-256, or null
 */
record FixedEntries(
        Map<String, ApiKey> keys,
        Map<String, Tenant> tenants,
        Map<String, Registry.ProviderSecret> providerKeys,
        Set<String> providers,
        @Nullable String adminTokenSha256) {

    /**
     * @throws IllegalArgumentException when {@code BR_API_KEY} or {@code BR_ADMIN_TOKEN} has the wrong
     *                                  format (the message names the variable, never its value)
     */
    static FixedEntries of(Registry.Bootstrap boot) {
        Map<String, ApiKey> keys = new LinkedHashMap<>();
        Map<String, Tenant> tenants = new TreeMap<>();
        tenants.put(Registry.DEFAULT_TENANT, configTenant(Registry.DEFAULT_TENANT));
        for (KeyConfig k : boot.keys()) {
            String tenant = k.tenant() == null ? Registry.DEFAULT_TENANT : k.tenant();
            keys.put(
                    k.sha256(),
                    new ApiKey(
                            ApiKey.idOf(k.sha256()),
                            k.name(),
                            tenant,
                            k.sha256(),
                            new KeyLimits(k.dailyBudgetNano(), k.rpm(), k.tpm()),
                            KeyKind.API,
                            k.allowedModels(),
                            k.zone() == null ? ZoneOffset.UTC : k.zone(),
                            Instant.EPOCH,
                            null,
                            "config"));
            tenants.putIfAbsent(tenant, configTenant(tenant));
        }
        String env = emptyToNull(boot.envApiKey());
        if (env != null) {
            if (!ApiKeys.isWellFormed(env)) {
                throw new IllegalArgumentException(Registry.ENV_API_KEY + ": " + ApiKeys.hint(env)
                        + " (expected: 'br_live_' followed by 32 letters or digits)");
            }
            String hash = ApiKeys.sha256(env);
            keys.putIfAbsent(
                    hash,
                    new ApiKey(
                            ApiKey.idOf(hash),
                            "env",
                            Registry.DEFAULT_TENANT,
                            hash,
                            KeyLimits.NONE,
                            KeyKind.API,
                            List.of(),
                            ZoneOffset.UTC,
                            Instant.EPOCH,
                            null,
                            "env"));
        }
        Map<String, Registry.ProviderSecret> providerKeys = new HashMap<>();
        for (Registry.ProviderSecret p : boot.providerKeys()) {
            if (p.secret() == null || p.secret().isEmpty()) {
                continue;
            }
            String tenant = p.tenant() == null ? Registry.DEFAULT_TENANT : p.tenant();
            providerKeys.put(
                    RegistryState.slot(tenant, p.provider()),
                    new Registry.ProviderSecret(tenant, p.provider(), p.secret()));
            tenants.putIfAbsent(tenant, configTenant(tenant));
        }
        String token = emptyToNull(boot.adminToken());
        if (token != null
                && (token.length() < Registry.MIN_ADMIN_TOKEN_CHARS
                        || token.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c)))) {
            throw new IllegalArgumentException(Registry.ENV_ADMIN_TOKEN + ": " + token.length() + " characters "
                    + "(expected: at least " + Registry.MIN_ADMIN_TOKEN_CHARS + ", without spaces or control "
                    + "characters; e.g. from 'openssl rand -base64 32')");
        }
        return new FixedEntries(
                Collections.unmodifiableMap(keys),
                Map.copyOf(tenants),
                Map.copyOf(providerKeys),
                boot.providers(),
                token == null ? null : ApiKeys.sha256(token));
    }

    /** True when tenant {@code id} exists, here or in {@code s}. */
    boolean tenantExists(RegistryState s, @Nullable String id) {
        return id != null && (tenants.containsKey(id) || s.tenants.containsKey(id));
    }

    /** The key with id {@code id} as {@code s} has it (a config key with its revocation), or null. */
    @Nullable
    ApiKey key(RegistryState s, String id) {
        for (ApiKey k : keys.values()) {
            if (k.id().equals(id)) {
                Instant revoked = s.revokedFixedKeys.get(k.sha256());
                return revoked == null ? k : k.withRevokedAt(revoked);
            }
        }
        for (ApiKey k : s.keys.values()) {
            if (k.id().equals(id)) {
                return k;
            }
        }
        return null;
    }

    static @Nullable String emptyToNull(@Nullable String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static Tenant configTenant(String id) {
        return new Tenant(id, id, Instant.EPOCH, "config");
    }
}
