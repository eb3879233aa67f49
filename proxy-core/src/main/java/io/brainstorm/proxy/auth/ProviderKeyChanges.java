package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;

import java.time.InstantSource;
import java.util.TreeSet;

/**
 * The rules of a {@link Registry}'s provider key changes: set (or replace) and delete a tenant's key
 * for a provider account. Keys from config are not changed here (409). The secret is sealed for the
 * file by {@link RegistryStore#seal} and never appears in a message.
 *
 * <p><b>Threading:</b> as {@link RegistryStore#change}: thread-safe, blocking (file I/O).
 */
final class ProviderKeyChanges {
    private static final String SIM_PROVIDER = "sim";
    private final RegistryStore store;
    private final FixedEntries fixed;
    private final InstantSource clock;

    ProviderKeyChanges(RegistryStore store, FixedEntries fixed, InstantSource clock) {
        this.store = store;
        this.fixed = fixed;
        this.clock = clock;
    }

    /** See {@link Registry#setProviderKey}. */
    ProviderKeyInfo set(String tenant, String provider, String secret) {
        if (SIM_PROVIDER.equals(provider)) {
            throw ApiError.invalidRequest("provider", "The simulated provider 'sim' needs no key.");
        }
        if (provider == null || !fixed.providers().contains(provider)) {
            throw ApiError.notFound("No provider account " + Validation.quote(provider) + " (known: "
                    + (fixed.providers().isEmpty() ? "none; add providers to conf/brainstorm.yaml"
                    : String.join(", ", new TreeSet<>(fixed.providers()))) + ").");
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
            RegistryState.ProviderEntry p = new RegistryState.ProviderEntry(tenant, provider, secret, sealed,
                    clock.instant());
            s.providerKeys.put(RegistryState.slot(tenant, provider), p);
            return p.info();
        });
    }

    /** See {@link Registry#deleteProviderKey}. */
    void delete(String tenant, String provider) {
        store.change(s -> {
            if (fixed.providerKeys().containsKey(RegistryState.slot(tenant, provider))) {
                throw ApiError.conflict("Tenant '" + tenant + "' has its key for '" + provider
                        + "' in conf/brainstorm.yaml; remove it there.");
            }
            if (s.providerKeys.remove(RegistryState.slot(tenant, provider)) == null) {
                throw ApiError.notFound("Tenant " + Validation.quote(tenant) + " has no key for " + Validation.quote(provider) + ".");
            }
            return null;
        });
    }
}
