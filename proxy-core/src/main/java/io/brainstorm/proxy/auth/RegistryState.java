package io.brainstorm.proxy.auth;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What {@code registry.json} holds: tenants, keys and provider keys made at run time, revocations of
 * keys from config, the generated admin token's hash. {@link Registry} copies it for every change,
 * so a refused change leaves nothing behind.
 *
 * <p><b>Threading:</b> not thread-safe; the registry changes a copy under its lock and never changes
 * a state once published.
 */
final class RegistryState {
    /** Tenants created through the admin API (those from config are not here), by id. */
    final Map<String, Tenant> tenants = new TreeMap<>();
    /** Admin and demo keys by SHA-256, in creation order. */
    final Map<String, ApiKey> keys = new LinkedHashMap<>();
    /** When keys from config or {@code BR_API_KEY} were revoked, by SHA-256. */
    final Map<String, Instant> revokedFixedKeys = new TreeMap<>();
    /** Provider keys set through the admin API, by {@link #slot}. */
    final Map<String, ProviderEntry> providerKeys = new TreeMap<>();
    /** The generated admin token's SHA-256, or null. */
    @Nullable
    String adminTokenSha256;

    RegistryState copy() {
        RegistryState c = new RegistryState();
        c.tenants.putAll(tenants);
        c.keys.putAll(keys);
        c.revokedFixedKeys.putAll(revokedFixedKeys);
        c.providerKeys.putAll(providerKeys);
        c.adminTokenSha256 = adminTokenSha256;
        return c;
    }

    /** The map key of a tenant's key for a provider account. */
    static String slot(String tenant, String provider) {
        return tenant + "\u0000" + provider;
    }

    /** {@code sha256:} and the first 8 hex digits of the secret's SHA-256: shows which key, not the key. */
    static String fingerprint(String secret) {
        return "sha256:" + ApiKeys.sha256(secret).substring(0, 8);
    }

    /**
     * A tenant's provider key set at run time: the secret, and as sealed by {@link SecretBox} for the
     * file (null in memory). {@code toString()} hides the secret.
     */
    record ProviderEntry(String tenant, String provider, String secret, byte @Nullable [] sealed, Instant createdAt) {
        ProviderKeyInfo info() {
            return new ProviderKeyInfo(tenant, provider, fingerprint(secret), createdAt, "admin");
        }

        @Override
        public String toString() {
            return "ProviderEntry[" + tenant + "/" + provider + "]";
        }
    }
}
