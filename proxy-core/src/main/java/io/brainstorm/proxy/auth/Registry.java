package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.config.ProviderConfig;
import io.brainstorm.proxy.state.redis.RedisLink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Tenants, gateway keys (API and admin) and tenants' provider keys (docs/architecture.md §6): the one place
 * that knows them, kept in {@code registry.json} in the state directory and shared by the gateway
 * processes of a host.
 *
 * <h2>What comes from where</h2>
 * <ul>
 *   <li>Config ({@link Bootstrap#keys()}, {@link Bootstrap#providerKeys()}): read at every start,
 *       never written to the file; {@code source = "config"}. The admin API cannot change or delete
 *       them (409), except that a config key can be revoked (the revocation is kept in the file by
 *       the key's hash and wins over config at later starts).</li>
 *   <li>{@code BR_API_KEY} ({@link Bootstrap#envApiKey()}): one API key of tenant {@code default},
 *       {@code source = "env"}; like a config key it can be revoked, not changed.</li>
 *   <li>Run time (admin API): tenants, keys and provider keys created through this class, kept in
 *       the file; {@code source = "admin"}.</li>
 *   <li>When no API key exists at all at start (none in config, none in {@code BR_API_KEY}, none in
 *       the file, revoked ones counted), a demo key of tenant {@code default} is created and kept in
 *       the file ({@code source = "demo"}); its secret is handed out once by {@link #takeNewSecrets()}.</li>
 *   <li>The super-admin token: {@link Bootstrap#adminToken()} ({@code BR_ADMIN_TOKEN}, at least
 *       {@value #MIN_ADMIN_TOKEN_CHARS} characters) when set, otherwise a {@code br_admin_} token
 *       generated at the first start, whose SHA-256 is kept in the file and whose secret is handed out
 *       once by {@link #takeNewSecrets()}.</li>
 * </ul>
 * Tenant {@code default} always exists, and so does every tenant a config key or provider key names.
 *
 * <h2>Secrets</h2>
 * Gateway keys are {@code br_live_} / {@code br_admin_} + 32 base62 characters from
 * {@code SecureRandom}; only their SHA-256 is stored. Provider keys are stored encrypted with
 * AES-256-GCM ({@link SecretBox}) under the master key (from {@code BR_MASTER_KEY}, base64 of 32 bytes,
 * or else the key file, created with mode 0600 at the first start; see {@link MasterKey}), with a
 * random 12-byte nonce each and the tenant and provider as associated data, so a ciphertext cannot
 * be moved to another tenant. They are decrypted when the file is read, kept in memory for the
 * upstream calls, and never logged, printed or returned: {@link #providerKeys} shows a fingerprint
 * only. A provider key that does not decrypt (another master key, an altered file) fails
 * {@link #open} rather than being dropped. This class never prints or logs a secret, and
 * {@code toString()} of every record here hides secrets. {@code registry.json} is written with mode 0600.
 *
 * <h2>Processes</h2>
 * Changes are made under an exclusive lock on {@code registry.lock} (and a lock per state directory
 * within this JVM): read the file if it differs from what this instance last read or wrote, apply,
 * write {@code registry.json.tmp}, force it to disk and move it into place atomically. This process
 * sees its own changes at once; other processes on the state directory re-read the file when its
 * identity, modification time or size changes, checked every {@value #RELOAD_MILLIS} ms by a daemon
 * thread ({@code br-registry-watch}), so a key revoked through one process is refused by its peers
 * within that time. A file changed by a peer that cannot be read (corrupt, another master key) is
 * logged and ignored by the watcher, and refuses changes until it is repaired, so it is never overwritten.
 *
 * <p>With {@code state_store: redis} ({@link #openShared}) the same state lives in Redis instead, shared
 * by the gateways of every host: a change is a compare-and-set retried on conflict, published on a
 * channel, and every gateway also polls the version every {@value #RELOAD_MILLIS} ms.
 *
 * <h2>Parts</h2>
 * This class holds the tenants' changes and hands the rest on: {@link KeyChanges} has the rules of
 * key and provider key changes, {@link FixedEntries} is what config and the environment define,
 * {@link RegistryState} what the file holds, {@link RegistryFile} its format and lock,
 * {@link RegistryStore} the current state kept in step with the file and the watcher,
 * {@link RegistrySnapshot} what the request path reads and how it authenticates, {@link Validation}
 * what a tenant id, a name or a provider key may be.
 *
 * <p><b>Threading:</b> {@link #authenticate}, {@link #authenticateAdmin} and {@link #providerKey}
 * run on event loops and never block: each reads one volatile {@link RegistrySnapshot} of immutable
 * maps. Changes and {@link #open} do file I/O: call them off the event loops. Changes are serialized
 * by {@link RegistryStore} (its monitor, then the file lock) and work on a copy of the state, so a
 * reader sees a snapshot from before a change or after it, never half of it. Every method is
 * thread-safe.
 *
 * <p><b>Errors:</b> changes throw {@link ApiError} in OpenAI's shape: 400 for bad input (param names
 * the field), 404 for an unknown tenant, key or provider key, 409 for a conflict; nothing is written
 * then. A change whose file I/O fails throws {@link UncheckedIOException} (an internal error for the
 * admin API), and the registry stays as it was.
 */
public final class Registry implements AutoCloseable {
    public static final String FILE = "registry.json";
    public static final String LOCK_FILE = "registry.lock";
    public static final String DEFAULT_TENANT = "default";
    /** The environment variable of an operator-chosen API key ({@link Bootstrap#envApiKey()}). */
    public static final String ENV_API_KEY = "BR_API_KEY";
    /** The environment variable of the super-admin token ({@link Bootstrap#adminToken()}). */
    public static final String ENV_ADMIN_TOKEN = "BR_ADMIN_TOKEN";
    /** Where {@link Secrets#showOnce} writes a generated admin token when stdout is not a terminal. */
    public static final String ADMIN_TOKEN_FILE = "admin-token.txt";
    /** Where {@link Secrets#showOnce} writes a demo key when stdout is not a terminal. */
    public static final String DEMO_KEY_FILE = "demo-key.txt";

    public static final int MIN_ADMIN_TOKEN_CHARS = 20;
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
     * @param masterKeyFile where the master key is kept when {@code masterKey} is null (created 0600 when
     *                      absent); null for {@code <stateDir>/master.key}
     */
    public record Bootstrap(
            List<KeyConfig> keys,
            List<ProviderSecret> providerKeys,
            Set<String> providers,
            @Nullable String envApiKey,
            @Nullable String adminToken,
            @Nullable String masterKey,
            @Nullable Path masterKeyFile) {
        public Bootstrap {
            keys = keys == null ? List.of() : List.copyOf(keys);
            providerKeys = providerKeys == null ? List.of() : List.copyOf(providerKeys);
            providers = providers == null ? Set.of() : Set.copyOf(providers);
        }

        /**
         * What {@code serve} starts with: the config's keys, its providers' keys (tenant {@code default})
         * and names, and {@code BR_API_KEY}, {@code BR_ADMIN_TOKEN}, {@code BR_MASTER_KEY} from {@code env}
         * (empty counts as unset); the master key file is {@code <stateDir>/master.key}.
         */
        public static Bootstrap of(GatewayConfig config, Map<String, String> env) {
            List<ProviderSecret> secrets = new ArrayList<>();
            Set<String> names = new LinkedHashSet<>();
            for (ProviderConfig p : config.providers()) {
                names.add(p.name());
                String apiKey = p.apiKey();
                if (apiKey != null && !apiKey.isEmpty()) { // p.hasKey(), spelled out for the null checker
                    String tenant = p.tenant();
                    secrets.add(new ProviderSecret(tenant == null ? DEFAULT_TENANT : tenant, p.name(), apiKey));
                }
            }
            return new Bootstrap(
                    config.keys(),
                    secrets,
                    names,
                    FixedEntries.emptyToNull(env.get(ENV_API_KEY)),
                    FixedEntries.emptyToNull(env.get(ENV_ADMIN_TOKEN)),
                    FixedEntries.emptyToNull(env.get(MasterKey.ENV)),
                    config.stateDir().resolve(MasterKey.DEFAULT_FILE));
        }

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
     * @param name          a label (1 to 100 characters, no control characters)
     * @param kind          API or ADMIN; null for API
     * @param limits        budget and rate limits ({@link KeyLimits#NONE} for none); null for none
     * @param allowedModels model ids or {@code provider/*}; empty or null for all
     * @param zone          the budget day's time zone, or null for UTC
     */
    public record KeySpec(
            String name,
            @Nullable KeyKind kind,
            @Nullable KeyLimits limits,
            @Nullable List<String> allowedModels,
            @Nullable ZoneId zone) {}

    /** Changes to a key; a null field stays as it is. */
    public record KeyUpdate(
            @Nullable String name,
            @Nullable KeyLimits limits,
            @Nullable List<String> allowedModels,
            @Nullable ZoneId zone) {}

    /** A key just created, with its secret: show it once, then drop it. */
    public record Created(ApiKey key, String secret) {
        @Override
        public String toString() {
            return "Created[" + key + "]";
        }
    }

    /**
     * A secret made at start that must be shown once: the demo API key or the admin token.
     *
     * @param label    what it is, for people ({@code Demo API key}, {@code Admin token})
     * @param fileName where to write it in the state directory when stdout is not a terminal
     *                 ({@value #DEMO_KEY_FILE}, {@value #ADMIN_TOKEN_FILE}); see {@link Secrets#showOnce}
     * @param secret   the secret
     */
    public record NewSecret(String label, String fileName, String secret) {
        @Override
        public String toString() {
            return "NewSecret[" + label + "]";
        }
    }

    private final RegistryStore store;
    private final FixedEntries fixed;
    private final InstantSource clock;
    private final KeyChanges keys;
    /** Guarded by this. */
    private List<NewSecret> newSecrets = List.of();

    private Registry(RegistryStore store, FixedEntries fixed, InstantSource clock) {
        this.store = store;
        this.fixed = fixed;
        this.clock = clock;
        this.keys = new KeyChanges(store, fixed, clock);
    }

    /**
     * Opens (creating) the registry in {@code stateDir}, and starts watching the file for peers' changes.
     *
     * @throws IllegalArgumentException when {@code BR_API_KEY}, {@code BR_ADMIN_TOKEN} or {@code BR_MASTER_KEY}
     *                                  has the wrong format (the message names the variable, never its value)
     * @throws IOException              when a file cannot be read or written, {@code registry.json} is
     *                                  malformed, or a provider key does not decrypt under the master key
     */
    public static Registry open(Path stateDir, Bootstrap boot, InstantSource clock) throws IOException {
        return open(stateDir, boot, clock, VerdictCache.SEEDED);
    }

    /** {@link #open} with the cheap hash of the key lookup cache chosen, for tests that force collisions. */
    static Registry open(Path stateDir, Bootstrap boot, InstantSource clock, VerdictCache.Hash hash)
            throws IOException {
        FixedEntries fixed = FixedEntries.of(boot);
        Files.createDirectories(stateDir);
        Path dir = stateDir.toRealPath();
        Path keyFile = boot.masterKeyFile() != null ? boot.masterKeyFile() : dir.resolve(MasterKey.DEFAULT_FILE);
        Registry registry = RegistryFile.locked(dir, () -> {
            // under the lock, so that two processes starting together make one master key and one demo key
            RegistryFile file = new RegistryFile(dir, MasterKey.load(boot.masterKey(), keyFile));
            Registry r = new Registry(new RegistryStore(file, fixed, hash), fixed, clock);
            r.start();
            return r;
        });
        registry.store.watch();
        return registry;
    }

    /**
     * Opens the registry shared through Redis by every gateway of a deployment ({@code state_store:
     * redis}, docs/scale-out.md), and starts following the other gateways' changes. The state is
     * what {@code registry.json} would hold, under {@code <prefix>registry} ({@link
     * io.brainstorm.proxy.state.redis.RedisRegistry}); {@code registry.json} is neither read nor
     * written. The master key comes from {@code BR_MASTER_KEY} or the key file as for {@link #open}
     * (created in {@code stateDir} when absent) and must be the same on every gateway: the first
     * start stores a check value derived from it (never the key), and a gateway whose key does not
     * match refuses to start. When several gateways start at once on an empty Redis, one demo key
     * and one generated admin token are made, and {@link #takeNewSecrets()} returns them only on the
     * gateway that made them.
     *
     * <p>Changes are written with a compare-and-set and retried on a peer's change, then published;
     * every gateway also checks the version every {@value #RELOAD_MILLIS} ms, so a revoked key is
     * refused everywhere within a second even when a notice is lost. While Redis cannot be reached,
     * the request path keeps the last state seen and changes fail with a 503 {@link ApiError}.
     * {@link #close} stops following; the link stays the caller's to close.
     *
     * @throws IllegalArgumentException as {@link #open}
     * @throws IOException              when Redis cannot be read or written, the state there is malformed or
     *                                  does not open under the master key, the master key is not the other
     *                                  gateways' (the message says to set the same {@code BR_MASTER_KEY}
     *                                  everywhere), or the key file cannot be read or created
     */
    public static Registry openShared(RedisLink link, Path stateDir, Bootstrap boot, InstantSource clock)
            throws IOException {
        FixedEntries fixed = FixedEntries.of(boot);
        Files.createDirectories(stateDir);
        Path dir = stateDir.toRealPath();
        Path keyFile = boot.masterKeyFile() != null ? boot.masterKeyFile() : dir.resolve(MasterKey.DEFAULT_FILE);
        // under the directory's lock, so that two processes of a host starting together make one key file
        SecretBox box = RegistryFile.locked(dir, () -> MasterKey.load(boot.masterKey(), keyFile));
        RegistryStore store = RegistryStore.shared(new RegistryRedis(link, dir, box), fixed, VerdictCache.SEEDED);
        Registry registry = new Registry(store, fixed, clock);
        registry.start();
        store.watch();
        return registry;
    }

    /**
     * The same on the heap, for tests and {@code state_store: memory}; provider keys are not encrypted.
     * A demo key and admin token are made as by {@link #open}, and forgotten at exit.
     *
     * @throws IllegalArgumentException as {@link #open}
     */
    public static Registry inMemory(Bootstrap boot, InstantSource clock) {
        return inMemory(boot, clock, VerdictCache.SEEDED);
    }

    /** {@link #inMemory} with the cheap hash of the key lookup cache chosen, for tests that force collisions. */
    static Registry inMemory(Bootstrap boot, InstantSource clock, VerdictCache.Hash hash) {
        FixedEntries fixed = FixedEntries.of(boot);
        Registry r = new Registry(new RegistryStore(null, fixed, hash), fixed, clock);
        try {
            r.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // no file is touched on the heap
        }
        return r;
    }

    /** Reads the file and adds the demo key and admin token when there are none. Under the lock. */
    private synchronized void start() throws IOException {
        newSecrets = store.start(s -> {
            List<NewSecret> made = new ArrayList<>();
            boolean anyApiKey = fixed.keys().values().stream().anyMatch(k -> k.kind() == KeyKind.API)
                    || s.keys.values().stream().anyMatch(k -> k.kind() == KeyKind.API);
            if (!anyApiKey) {
                String secret = ApiKeys.generate();
                String hash = ApiKeys.sha256(secret);
                s.keys.put(
                        hash,
                        new ApiKey(
                                ApiKey.idOf(hash),
                                "demo",
                                DEFAULT_TENANT,
                                hash,
                                KeyLimits.NONE,
                                KeyKind.API,
                                List.of(),
                                ZoneOffset.UTC,
                                clock.instant(),
                                null,
                                "demo"));
                made.add(new NewSecret("Demo API key", DEMO_KEY_FILE, secret));
            }
            if (fixed.adminTokenSha256() == null && s.adminTokenSha256 == null) {
                String secret = ApiKeys.generateAdmin();
                s.adminTokenSha256 = ApiKeys.sha256(secret);
                made.add(new NewSecret("Admin token", ADMIN_TOKEN_FILE, secret));
            }
            return List.copyOf(made);
        });
    }

    /** Secrets made by this start (demo key, admin token), each returned once; empty after. */
    public synchronized List<NewSecret> takeNewSecrets() {
        List<NewSecret> out = newSecrets;
        newSecrets = List.of();
        return out;
    }

    /** Stops listening for Redis change notices, so that only the poll follows peers; for tests. */
    void dropNotices() {
        store.dropNotices();
    }

    /**
     * The watcher's check, for tests, which call it instead of waiting for the watcher: reads the file
     * when a peer replaced it.
     */
    void poll() {
        store.poll();
    }

    // ---- request path (event loops, non-blocking) ----

    /**
     * The valid API key named by an {@code Authorization} header value. A key the current snapshot
     * found before is confirmed from a bounded cache, without SHA-256 ({@link VerdictCache}); a change
     * to the registry starts a new cache, so a revoked key is refused as soon as its revocation is seen.
     *
     * @throws ApiError 401 {@code invalid_api_key} when missing, malformed, unknown, revoked or an admin key
     */
    public ApiKey authenticate(@Nullable String authorization) {
        return store.snapshot().authenticate(authorization);
    }

    /**
     * Who is calling the admin API: the admin token, or a valid admin key.
     *
     * @throws ApiError 401 {@code invalid_api_key} otherwise (missing, malformed, unknown, revoked, or an API key)
     */
    public AdminPrincipal authenticateAdmin(@Nullable String authorization) {
        return store.snapshot().authenticateAdmin(authorization);
    }

    /** {@code tenant}'s key for provider account {@code provider}, or null when it has none. A secret. */
    public @Nullable String providerKey(String tenant, String provider) {
        return store.snapshot().providerKey(tenant, provider);
    }

    /** The key lookup cache of the current snapshot, for tests. */
    VerdictCache verdicts() {
        return store.snapshot().verdicts();
    }

    /** Grows by at least one on every change seen (this process's or a peer's), for caches. */
    public long version() {
        return store.snapshot().version();
    }

    // ---- admin (blocking: off the event loops) ----

    /** Every tenant, by id. */
    public List<Tenant> tenants() {
        return List.copyOf(store.snapshot().tenants().values());
    }

    public Optional<Tenant> tenant(String id) {
        return Optional.ofNullable(store.snapshot().tenants().get(id));
    }

    /**
     * @param id   1 to 64 lower-case letters, digits, '-' and '_', starting with a letter or digit
     * @param name a display name (1 to 100 characters), or null for the id
     * @throws ApiError 400 for a bad id or name, 409 when it exists
     */
    public Tenant createTenant(String id, @Nullable String name) {
        if (!Validation.isTenantId(id)) {
            throw ApiError.invalidRequest(
                    "id",
                    "Tenant id " + Validation.quote(id) + " is not valid (expected: " + Validation.TENANT_ID_RULE
                            + ").");
        }
        String label = name == null ? id : Validation.checkName("name", name);
        return store.change(s -> {
            if (fixed.tenants().containsKey(id) || s.tenants.containsKey(id)) {
                throw ApiError.conflict("Tenant '" + id + "' already exists.");
            }
            Tenant t = new Tenant(id, label, clock.instant(), "admin");
            s.tenants.put(id, t);
            return t;
        });
    }

    /**
     * Deletes an admin-created tenant: revokes its keys and deletes its provider keys. Its revoked keys
     * stay listed under its id.
     *
     * @throws ApiError 404 unknown, 409 for {@code default} or a tenant named by config
     */
    public void deleteTenant(String id) {
        store.change(s -> {
            if (DEFAULT_TENANT.equals(id)) {
                throw ApiError.conflict("Tenant 'default' always exists; it cannot be deleted.");
            }
            if (fixed.tenants().containsKey(id)) {
                throw ApiError.conflict("Tenant '" + id + "' is named in conf/brainstorm.yaml; remove it there.");
            }
            if (!s.tenants.containsKey(id)) {
                throw noTenant(id);
            }
            Instant now = clock.instant();
            s.keys.replaceAll((hash, k) -> k.tenant().equals(id) && !k.revoked() ? k.withRevokedAt(now) : k);
            s.providerKeys.values().removeIf(p -> p.tenant().equals(id));
            s.tenants.remove(id);
            return null;
        });
    }

    /** @throws ApiError 404 unknown tenant, 400 bad spec */
    public Created createKey(String tenant, KeySpec spec) {
        return keys.create(tenant, spec);
    }

    /** The tenant's keys, revoked ones included, oldest first. */
    public List<ApiKey> keys(String tenant) {
        return store.snapshot().keys().stream()
                .filter(k -> k.tenant().equals(tenant))
                .toList();
    }

    /** Every key, revoked ones included, oldest first. */
    public List<ApiKey> allKeys() {
        return store.snapshot().keys();
    }

    public Optional<ApiKey> key(String id) {
        return Optional.ofNullable(store.snapshot().byId().get(id));
    }

    /** @throws ApiError 404 unknown, 409 a config or {@code BR_API_KEY} key or a revoked key, 400 bad update */
    public ApiKey updateKey(String id, KeyUpdate update) {
        return keys.update(id, update);
    }

    /**
     * Revokes a key: refused at once by this process, by its peers within {@value #RELOAD_MILLIS} ms.
     * Keys from config and {@code BR_API_KEY} can be revoked too; the revocation outlives restarts.
     * Revoking a revoked key returns it unchanged.
     *
     * @throws ApiError 404
     */
    public ApiKey revokeKey(String id) {
        return keys.revoke(id);
    }

    /**
     * Sets (or replaces) {@code tenant}'s key for provider account {@code provider}.
     *
     * @throws ApiError 404 unknown tenant or provider account, 400 for {@code sim} or an empty secret or one
     *                  with spaces or control characters, 409 a config key is set for it
     */
    public ProviderKeyInfo setProviderKey(String tenant, String provider, String secret) {
        return keys.setProvider(tenant, provider, secret);
    }

    /** The tenant's provider keys as they may be shown, by provider; empty for an unknown tenant. */
    public List<ProviderKeyInfo> providerKeys(String tenant) {
        return store.snapshot().providerInfo().getOrDefault(tenant, List.of());
    }

    /** @throws ApiError 404 when the tenant has no such key, 409 for a key from config */
    public void deleteProviderKey(String tenant, String provider) {
        keys.deleteProvider(tenant, provider);
    }

    /** Stops watching the file. The registry stays usable, but no longer sees peers' changes. */
    @Override
    public void close() {
        store.close();
    }

    // ---- messages ----

    static ApiError noTenant(String id) {
        return ApiError.notFound("No tenant " + Validation.quote(id) + ".");
    }
}
