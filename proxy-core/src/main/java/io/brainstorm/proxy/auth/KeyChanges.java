package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeSet;

/**
 * The rules of a {@link Registry}'s key changes: gateway keys (create, update, revoke) and tenants'
 * provider keys (set or replace, delete; those from config are not changed here, 409). Each checks
 * its input first, then changes a copy of the state through {@link RegistryStore#change}, refusing
 * with an {@link ApiError} (nothing changes then). A provider key is sealed for the file by
 * {@link RegistryStore#seal} and never appears in a message.
 *
 * <p><b>Threading:</b> as {@link RegistryStore#change}: thread-safe, blocking (file I/O).
 */
final class KeyChanges {
    private static final String SIM_PROVIDER = "sim";
    private final RegistryStore store;
    private final FixedEntries fixed;
    private final InstantSource clock;

    KeyChanges(RegistryStore store, FixedEntries fixed, InstantSource clock) {
        this.store = store;
        this.fixed = fixed;
        this.clock = clock;
    }

    /** See {@link Registry#createKey}. */
    Registry.Created create(String tenant, Registry.KeySpec spec) {
        if (spec == null) {
            throw ApiError.invalidRequest(null, "A key needs at least a name.");
        }
        String name = Validation.checkName("name", spec.name());
        KeyKind kind = spec.kind() == null ? KeyKind.API : spec.kind();
        KeyLimits limits = spec.limits() == null ? KeyLimits.NONE : spec.limits();
        List<String> models = checkModels(spec.allowedModels() == null ? List.of() : spec.allowedModels());
        ZoneId zone = spec.zone() == null ? ZoneOffset.UTC : spec.zone();
        return store.change(s -> {
            if (!fixed.tenantExists(s, tenant)) {
                throw Registry.noTenant(tenant);
            }
            String secret;
            String hash;
            do {
                secret = kind == KeyKind.ADMIN ? ApiKeys.generateAdmin() : ApiKeys.generate();
                hash = ApiKeys.sha256(secret);
            } while (fixed.key(s, ApiKey.idOf(hash)) != null); // ids are 48 bits of the hash: a clash is a freak
            ApiKey key = new ApiKey(
                    ApiKey.idOf(hash), name, tenant, hash, limits, kind, models, zone, clock.instant(), null, "admin");
            s.keys.put(hash, key);
            return new Registry.Created(key, secret);
        });
    }

    /** See {@link Registry#updateKey}. */
    ApiKey update(String id, Registry.KeyUpdate update) {
        if (update == null) {
            throw ApiError.invalidRequest(null, "Nothing to change.");
        }
        String name = update.name() == null ? null : Validation.checkName("name", update.name());
        List<String> models = update.allowedModels() == null ? null : checkModels(update.allowedModels());
        return store.change(s -> {
            ApiKey k = fixed.key(s, id);
            if (k == null) {
                throw noKey(id);
            }
            refuseFixed(k, "changed");
            if (k.revoked()) {
                throw ApiError.conflict("Key " + id + " is revoked; a revoked key cannot be changed.");
            }
            ApiKey changed = new ApiKey(
                    k.id(),
                    name == null ? k.name() : name,
                    k.tenant(),
                    k.sha256(),
                    update.limits() == null ? k.limits() : update.limits(),
                    k.kind(),
                    models == null ? k.allowedModels() : models,
                    update.zone() == null ? k.zone() : update.zone(),
                    k.createdAt(),
                    null,
                    k.source());
            s.keys.put(k.sha256(), changed);
            return changed;
        });
    }

    /** See {@link Registry#revokeKey}. */
    ApiKey revoke(String id) {
        return store.change(s -> {
            ApiKey k = fixed.key(s, id);
            if (k == null) {
                throw noKey(id);
            }
            if (k.revoked()) {
                return k;
            }
            ApiKey revoked = k.withRevokedAt(clock.instant());
            if (fixed.keys().containsKey(k.sha256())) {
                s.revokedFixedKeys.put(k.sha256(), revoked.revokedAt());
            } else {
                s.keys.put(k.sha256(), revoked);
            }
            return revoked;
        });
    }

    /** See {@link Registry#setProviderKey}. */
    ProviderKeyInfo setProvider(String tenant, String provider, String secret) {
        if (SIM_PROVIDER.equals(provider)) {
            throw ApiError.invalidRequest("provider", "The simulated provider 'sim' needs no key.");
        }
        if (provider == null || !fixed.providers().contains(provider)) {
            throw ApiError.notFound("No provider account " + Validation.quote(provider) + " (known: "
                    + (fixed.providers().isEmpty()
                            ? "none; add providers to conf/brainstorm.yaml"
                            : String.join(", ", new TreeSet<>(fixed.providers())))
                    + ").");
        }
        String problem = Validation.providerKeyProblem(secret);
        if (problem != null) {
            throw ApiError.invalidRequest("api_key", "The provider key " + problem + ".");
        }
        return store.change(s -> {
            if (!fixed.tenantExists(s, tenant)) {
                throw Registry.noTenant(tenant);
            }
            if (fixed.providerKeys().containsKey(RegistryState.slot(tenant, provider))) {
                throw ApiError.conflict("Tenant '" + tenant + "' has its key for '" + provider
                        + "' in conf/brainstorm.yaml; change it there.");
            }
            byte[] sealed = store.seal(tenant, provider, secret);
            RegistryState.ProviderEntry p =
                    new RegistryState.ProviderEntry(tenant, provider, secret, sealed, clock.instant());
            s.providerKeys.put(RegistryState.slot(tenant, provider), p);
            return p.info();
        });
    }

    /** See {@link Registry#deleteProviderKey}. */
    void deleteProvider(String tenant, String provider) {
        store.change(s -> {
            if (fixed.providerKeys().containsKey(RegistryState.slot(tenant, provider))) {
                throw ApiError.conflict("Tenant '" + tenant + "' has its key for '" + provider
                        + "' in conf/brainstorm.yaml; remove it there.");
            }
            if (s.providerKeys.remove(RegistryState.slot(tenant, provider)) == null) {
                throw ApiError.notFound(
                        "Tenant " + Validation.quote(tenant) + " has no key for " + Validation.quote(provider) + ".");
            }
            return null;
        });
    }

    private static List<String> checkModels(List<String> models) {
        for (String m : models) {
            if (!Validation.isModelPattern(m)) {
                throw ApiError.invalidRequest(
                        "allowed_models",
                        "allowed_models: " + Validation.quote(m)
                                + " (expected: a model id such as 'sim/alpha', or 'provider/*', without spaces).");
            }
        }
        return List.copyOf(new LinkedHashSet<>(models));
    }

    private static ApiError noKey(String id) {
        return ApiError.notFound("No key " + Validation.quote(id) + ".");
    }

    private static void refuseFixed(ApiKey k, String what) {
        if ("config".equals(k.source())) {
            throw ApiError.conflict("Key " + k.id() + " is defined in conf/brainstorm.yaml; it cannot be " + what
                    + " here (change it there).");
        }
        if ("env".equals(k.source())) {
            throw ApiError.conflict(
                    "Key " + k.id() + " comes from " + Registry.ENV_API_KEY + "; it cannot be " + what + " here.");
        }
    }
}
