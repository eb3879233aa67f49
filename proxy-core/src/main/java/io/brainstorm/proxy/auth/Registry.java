package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.KeyConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Tenants, gateway keys (API and admin) and tenants' provider keys (DESIGN §4, §6): the one place
 * that knows them, kept in {@code registry.json} in the state directory and shared by the gateway
 * processes of a host.
 *
 * <h2>What comes from where</h2>
 * <ul>
 *   <li>Config ({@link Bootstrap#keys()}, {@link Bootstrap#providerKeys()}): read at every start,
 *       never written to the file; {@code source = "config"}. The admin API cannot change or delete
 *       them (409), except that a config key can be revoked (the revocation is kept in the file and
 *       wins over config at later starts).</li>
 *   <li>{@code BR_API_KEY} ({@link Bootstrap#envApiKey()}): one API key of tenant {@code default},
 *       {@code source = "env"}.</li>
 *   <li>Run time (admin API): tenants, keys and provider keys created through this class, kept in
 *       the file; {@code source = "admin"}.</li>
 *   <li>When no API key exists at all at start, a demo key of tenant {@code default} is created and
 *       kept in the file ({@code source = "demo"}); its secret is handed out once by
 *       {@link #takeNewSecrets()}.</li>
 *   <li>The super-admin token: {@link Bootstrap#adminToken()} ({@code BR_ADMIN_TOKEN}) when set,
 *       otherwise a {@code br_admin_} token generated at the first start, whose SHA-256 is kept in
 *       the file and whose secret is handed out once by {@link #takeNewSecrets()}.</li>
 * </ul>
 * Tenant {@code default} always exists, and so does every tenant a config key or provider key names.
 *
 * <h2>Secrets</h2>
 * Gateway keys are {@code br_live_} / {@code br_admin_} + 32 base62 characters from
 * {@code SecureRandom}; only their SHA-256 is stored. Provider keys are stored encrypted with
 * AES-256-GCM under the master key (from {@code BR_MASTER_KEY}, base64 of 32 bytes, or else the key
 * file, created with mode 0600 on first use), with a random 12-byte nonce each and the tenant and
 * provider as associated data, so a ciphertext cannot be moved to another tenant. They are
 * decrypted once, kept in memory for the upstream calls, and never logged, printed or returned:
 * {@link #providerKeys} shows a fingerprint only. {@code toString()} of every record here hides secrets.
 *
 * <h2>Processes</h2>
 * Changes are made under an exclusive lock on {@code registry.lock}: read the file if it changed,
 * apply, write {@code registry.json.tmp} and move it into place atomically. This process sees its
 * own changes at once; other processes on the state directory re-read the file when its
 * modification time or size changes, checked at most every {@value #RELOAD_MILLIS} ms by a
 * background thread, so a key revoked through one process is refused by its peers within that time.
 *
 * <p><b>Threading:</b> {@link #authenticate} and {@link #providerKey} run on event loops and
 * never block (a volatile snapshot of immutable maps). Changes do file I/O: call them off the
 * event loops.
 *
 * <p><b>Errors:</b> changes throw {@link ApiError} in OpenAI's shape: 400 for bad input (param names
 * the field), 404 for an unknown tenant, key or provider key, 409 for a conflict.
 */
public final class Registry implements AutoCloseable {
    public static final String FILE = "registry.json";
    public static final String LOCK_FILE = "registry.lock";
    public static final String DEFAULT_TENANT = "default";
    static final long RELOAD_MILLIS = 500;

    /**
     * What the gateway starts with.
     *
     * @param keys          API keys from {@code brainstorm.yaml}
     * @param providerKeys  provider keys from {@code brainstorm.yaml} ({@code providers[].api_key})
     * @param providers     the provider accounts that exist (names); provider keys may only be set for these
     * @param envApiKey     {@code BR_API_KEY}, or null
     * @param adminToken    {@code BR_ADMIN_TOKEN}, or null (then one is generated and kept by hash)
     * @param masterKey     {@code BR_MASTER_KEY} (base64 of 32 bytes), or null (then the key file is used)
     * @param masterKeyFile where the master key is kept when {@code masterKey} is null (created 0600 when absent)
     */
    public record Bootstrap(List<KeyConfig> keys, List<ProviderSecret> providerKeys, Set<String> providers,
                            String envApiKey, String adminToken, String masterKey, Path masterKeyFile) {
        @Override
        public String toString() {
            return "Bootstrap[keys=" + keys.size() + ", providerKeys=" + providerKeys.size() + ", providers="
                    + providers + "]";
        }
    }

    /** A provider key from config: a secret; {@code toString()} hides it. */
    public record ProviderSecret(String tenant, String provider, String secret) {
        @Override
        public String toString() {
            return "ProviderSecret[" + tenant + "/" + provider + "]";
        }
    }

    /**
     * What a new key should be.
     *
     * @param name          a label (1 to 100 characters)
     * @param kind          API or ADMIN
     * @param limits        budget and rate limits ({@link KeyLimits#NONE} for none)
     * @param allowedModels model ids or {@code provider/*}; empty for all
     * @param zone          the budget day's time zone, or null for UTC
     */
    public record KeySpec(String name, KeyKind kind, KeyLimits limits, List<String> allowedModels, ZoneId zone) {
    }

    /** Changes to a key; a null field stays as it is. */
    public record KeyUpdate(String name, KeyLimits limits, List<String> allowedModels, ZoneId zone) {
    }

    /** A key just created, with its secret: show it once, then drop it. */
    public record Created(ApiKey key, String secret) {
        @Override
        public String toString() {
            return "Created[" + key + "]";
        }
    }

    /** A secret made at start that must be shown once: the demo API key or the admin token. */
    public record NewSecret(String label, String fileName, String secret) {
        @Override
        public String toString() {
            return "NewSecret[" + label + "]";
        }
    }

    /** Opens (creating) the registry in {@code stateDir}, and starts watching the file for peers' changes. */
    public static Registry open(Path stateDir, Bootstrap boot, InstantSource clock) throws IOException {
        throw new UnsupportedOperationException("being built");
    }

    /** The same on the heap, for tests and {@code state_store: memory}; provider keys are not encrypted. */
    public static Registry inMemory(Bootstrap boot, InstantSource clock) {
        throw new UnsupportedOperationException("being built");
    }

    /** Secrets made by this start (demo key, admin token), each returned once; empty after. */
    public List<NewSecret> takeNewSecrets() {
        throw new UnsupportedOperationException("being built");
    }

    // ---- request path (event loops, non-blocking) ----

    /**
     * The valid API key named by an {@code Authorization} header value.
     *
     * @throws ApiError 401 {@code invalid_api_key} when missing, malformed, unknown, revoked or an admin key
     */
    public ApiKey authenticate(String authorization) {
        throw new UnsupportedOperationException("being built");
    }

    /**
     * Who is calling the admin API: the admin token, or a valid admin key.
     *
     * @throws ApiError 401 {@code invalid_api_key} otherwise
     */
    public AdminPrincipal authenticateAdmin(String authorization) {
        throw new UnsupportedOperationException("being built");
    }

    /** {@code tenant}'s key for provider account {@code provider}, or null when it has none. A secret. */
    public String providerKey(String tenant, String provider) {
        throw new UnsupportedOperationException("being built");
    }

    /** Grows by at least one on every change seen (this process's or a peer's), for caches. */
    public long version() {
        throw new UnsupportedOperationException("being built");
    }

    // ---- admin (blocking: off the event loops) ----

    public List<Tenant> tenants() {
        throw new UnsupportedOperationException("being built");
    }

    public Optional<Tenant> tenant(String id) {
        throw new UnsupportedOperationException("being built");
    }

    /** @throws ApiError 400 for a bad id, 409 when it exists */
    public Tenant createTenant(String id, String name) {
        throw new UnsupportedOperationException("being built");
    }

    /**
     * Deletes an admin-created tenant: revokes its keys and deletes its provider keys.
     *
     * @throws ApiError 404 unknown, 409 for {@code default} or a tenant named by config
     */
    public void deleteTenant(String id) {
        throw new UnsupportedOperationException("being built");
    }

    /** @throws ApiError 404 unknown tenant, 400 bad spec */
    public Created createKey(String tenant, KeySpec spec) {
        throw new UnsupportedOperationException("being built");
    }

    /** The tenant's keys, revoked ones included, oldest first. */
    public List<ApiKey> keys(String tenant) {
        throw new UnsupportedOperationException("being built");
    }

    /** Every key, revoked ones included. */
    public List<ApiKey> allKeys() {
        throw new UnsupportedOperationException("being built");
    }

    public Optional<ApiKey> key(String id) {
        throw new UnsupportedOperationException("being built");
    }

    /** @throws ApiError 404 unknown, 409 a config key or a revoked key, 400 bad update */
    public ApiKey updateKey(String id, KeyUpdate update) {
        throw new UnsupportedOperationException("being built");
    }

    /** Revokes a key: refused at once by this process. Revoking a revoked key returns it unchanged. @throws ApiError 404 */
    public ApiKey revokeKey(String id) {
        throw new UnsupportedOperationException("being built");
    }

    /** @throws ApiError 404 unknown tenant or provider account, 400 empty secret, 409 a config key is set for it */
    public ProviderKeyInfo setProviderKey(String tenant, String provider, String secret) {
        throw new UnsupportedOperationException("being built");
    }

    public List<ProviderKeyInfo> providerKeys(String tenant) {
        throw new UnsupportedOperationException("being built");
    }

    /** @throws ApiError 404 when the tenant has no such key, 409 for a key from config */
    public void deleteProviderKey(String tenant, String provider) {
        throw new UnsupportedOperationException("being built");
    }

    @Override
    public void close() {
    }
}
