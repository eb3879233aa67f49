package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.config.ProviderConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Tenants, gateway keys (API and admin) and tenants' provider keys (DESIGN §4, §6): the one place
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
 *   <li>A {@code keys.json} left by earlier versions (hashes only) is imported, {@code source = "admin"},
 *       when the state directory has no {@code registry.json} yet; it is left in place, unread after.</li>
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
 * <p><b>Threading:</b> {@link #authenticate}, {@link #authenticateAdmin} and {@link #providerKey}
 * run on event loops and never block (a volatile snapshot of immutable maps). Changes and
 * {@link #open} do file I/O: call them off the event loops. Every method is thread-safe.
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
    static final String LEGACY_KEYS_FILE = "keys.json";
    static final long RELOAD_MILLIS = 500;
    private static final String SIM_PROVIDER = "sim";
    private static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    private static final int MAX_NAME_CHARS = 100;
    private static final System.Logger log = System.getLogger(Registry.class.getName());

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
    public record Bootstrap(List<KeyConfig> keys, List<ProviderSecret> providerKeys, Set<String> providers,
                            @Nullable String envApiKey, @Nullable String adminToken, @Nullable String masterKey, Path masterKeyFile) {
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
                if (p.hasKey()) {
                    secrets.add(new ProviderSecret(p.tenant(), p.name(), p.apiKey()));
                }
            }
            return new Bootstrap(config.keys(), secrets, names, emptyToNull(env.get(ENV_API_KEY)),
                    emptyToNull(env.get(ENV_ADMIN_TOKEN)), emptyToNull(env.get(MasterKey.ENV)),
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
    public record KeySpec(String name, KeyKind kind, KeyLimits limits, List<String> allowedModels, @Nullable ZoneId zone) {
    }

    /** Changes to a key; a null field stays as it is. */
    public record KeyUpdate(@Nullable String name, @Nullable KeyLimits limits, @Nullable List<String> allowedModels, @Nullable ZoneId zone) {
    }

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

    // ---- fixed at start ----
    /** null in memory */
    private final @Nullable RegistryFile file;
    private final InstantSource clock;
    private final Fixed fixed;

    // ---- guarded by this ----
    private @Nullable RegistryState state;
    /** The file's bytes {@link #state} was read from or written as; null in memory or before the first write. */
    private byte @Nullable [] lastBytes;
    /** The file's stamp when last read or written; the watcher reads it again when it changes. */
    private RegistryFile.@Nullable Stamp lastStamp;
    private List<NewSecret> newSecrets = List.of();

    private volatile @Nullable Snapshot snapshot;
    private volatile @Nullable ScheduledExecutorService watcher;

    private Registry(@Nullable RegistryFile file, Fixed fixed, InstantSource clock) {
        this.file = file;
        this.fixed = fixed;
        this.clock = clock;
    }

    /**
     * Opens (creating) the registry in {@code stateDir}, and starts watching the file for peers' changes.
     *
     * @throws IllegalArgumentException when {@code BR_API_KEY}, {@code BR_ADMIN_TOKEN} or {@code BR_MASTER_KEY}
     *                                  has the wrong format (the message names the variable, never its value)
     * @throws IOException              when a file cannot be read or written, {@code registry.json} or
     *                                  {@code keys.json} is malformed, or a provider key does not decrypt
     *                                  under the master key
     */
    public static Registry open(Path stateDir, Bootstrap boot, InstantSource clock) throws IOException {
        Fixed fixed = Fixed.of(boot);
        Files.createDirectories(stateDir);
        Path dir = stateDir.toRealPath();
        Path keyFile = boot.masterKeyFile() != null ? boot.masterKeyFile() : dir.resolve(MasterKey.DEFAULT_FILE);
        Registry registry = RegistryFile.locked(dir, () -> {
            // under the lock, so that two processes starting together make one master key and one demo key
            Registry r = new Registry(new RegistryFile(dir, MasterKey.load(boot.masterKey(), keyFile)), fixed, clock);
            r.start();
            return r;
        });
        registry.watch();
        return registry;
    }

    /**
     * The same on the heap, for tests and {@code state_store: memory}; provider keys are not encrypted.
     * A demo key and admin token are made as by {@link #open}, and forgotten at exit.
     *
     * @throws IllegalArgumentException as {@link #open}
     */
    public static Registry inMemory(Bootstrap boot, InstantSource clock) {
        Registry r = new Registry(null, Fixed.of(boot), clock);
        try {
            r.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // no file is touched in memory
        }
        return r;
    }

    /** Secrets made by this start (demo key, admin token), each returned once; empty after. */
    public synchronized List<NewSecret> takeNewSecrets() {
        List<NewSecret> out = newSecrets;
        newSecrets = List.of();
        return out;
    }

    // ---- request path (event loops, non-blocking) ----

    /**
     * The valid API key named by an {@code Authorization} header value.
     *
     * @throws ApiError 401 {@code invalid_api_key} when missing, malformed, unknown, revoked or an admin key
     */
    public ApiKey authenticate(String authorization) {
        if (authorization == null || authorization.isEmpty()) {
            throw ApiError.invalidApiKey("Missing API key. Send it as 'Authorization: Bearer br_live_…'.");
        }
        if (!isBearer(authorization)) {
            throw ApiError.invalidApiKey("Malformed Authorization header (expected: 'Bearer br_live_…').");
        }
        String secret = authorization.substring(7).trim();
        if (secret.startsWith(ApiKeys.ADMIN_PREFIX)) {
            throw adminKeyOnApi();
        }
        if (!ApiKeys.isWellFormed(secret)) {
            throw ApiError.invalidApiKey("Malformed API key (expected: 'br_live_' followed by 32 letters or digits).");
        }
        ApiKey key = snapshot.byHash.get(ApiKeys.sha256(secret));
        if (key == null) {
            throw ApiError.invalidApiKey("Incorrect API key provided: " + ApiKeys.hint(secret) + ".");
        }
        if (key.kind() != KeyKind.API) {
            throw adminKeyOnApi();
        }
        if (key.revoked()) {
            throw ApiError.invalidApiKey("This API key was revoked.");
        }
        return key;
    }

    private static ApiError adminKeyOnApi() {
        return ApiError.invalidApiKey("Admin keys (br_admin_…) open the admin API only; send a br_live_ API key here.");
    }

    /**
     * Who is calling the admin API: the admin token, or a valid admin key.
     *
     * @throws ApiError 401 {@code invalid_api_key} otherwise (missing, malformed, unknown, revoked, or an API key)
     */
    public AdminPrincipal authenticateAdmin(String authorization) {
        if (authorization == null || authorization.isEmpty()) {
            throw ApiError.invalidApiKey("Missing admin token. Send it as 'Authorization: Bearer <admin token>'.");
        }
        if (!isBearer(authorization)) {
            throw ApiError.invalidApiKey(
                    "Malformed Authorization header (expected: 'Bearer ' and the admin token or a br_admin_ key).");
        }
        String token = authorization.substring(7).trim();
        if (token.isEmpty()) {
            throw ApiError.invalidApiKey("Missing admin token. Send it as 'Authorization: Bearer <admin token>'.");
        }
        if (token.startsWith(ApiKeys.PREFIX)) {
            throw ApiError.invalidApiKey("API keys (br_live_…) open the OpenAI-compatible API only; send the admin "
                    + "token or a br_admin_ key here.");
        }
        Snapshot s = snapshot;
        String hash = ApiKeys.sha256(token);
        if (s.adminTokenSha256 != null && MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII),
                s.adminTokenSha256.getBytes(StandardCharsets.US_ASCII))) {
            return AdminPrincipal.SUPER;
        }
        ApiKey key = s.byHash.get(hash);
        if (key != null && key.kind() == KeyKind.ADMIN) {
            if (key.revoked()) {
                throw ApiError.invalidApiKey("This admin key was revoked.");
            }
            return new AdminPrincipal(key.tenant(), key.id());
        }
        throw ApiError.invalidApiKey(ApiKeys.isWellFormedAdmin(token)
                ? "Incorrect admin key provided: " + ApiKeys.hint(token) + "."
                : "Incorrect admin token provided.");
    }

    private static boolean isBearer(String authorization) {
        return authorization.length() >= 7 && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
    }

    /** {@code tenant}'s key for provider account {@code provider}, or null when it has none. A secret. */
    public @Nullable String providerKey(String tenant, String provider) {
        Map<String, String> keys = snapshot.providerSecrets.get(tenant);
        return keys == null ? null : keys.get(provider);
    }

    /** Grows by at least one on every change seen (this process's or a peer's), for caches. */
    public long version() {
        return snapshot.version;
    }

    // ---- admin (blocking: off the event loops) ----

    /** Every tenant, by id. */
    public List<Tenant> tenants() {
        return List.copyOf(snapshot.tenants.values());
    }

    public Optional<Tenant> tenant(String id) {
        return Optional.ofNullable(snapshot.tenants.get(id));
    }

    /**
     * @param id   1 to 64 lower-case letters, digits, '-' and '_', starting with a letter or digit
     * @param name a display name (1 to 100 characters), or null for the id
     * @throws ApiError 400 for a bad id or name, 409 when it exists
     */
    public Tenant createTenant(String id, String name) {
        if (id == null || !TENANT_ID.matcher(id).matches()) {
            throw ApiError.invalidRequest("id", "Tenant id " + quote(id)
                    + " is not valid (expected: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter"
                    + " or digit).");
        }
        String label = name == null ? id : checkLabel("name", name);
        return change(s -> {
            if (fixed.tenants.containsKey(id) || s.tenants.containsKey(id)) {
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
        change(s -> {
            if (DEFAULT_TENANT.equals(id)) {
                throw ApiError.conflict("Tenant 'default' always exists; it cannot be deleted.");
            }
            if (fixed.tenants.containsKey(id)) {
                throw ApiError.conflict("Tenant '" + id + "' is named in conf/brainstorm.yaml; remove it there.");
            }
            if (!s.tenants.containsKey(id)) {
                throw noTenant(id);
            }
            Instant now = clock.instant();
            s.keys.replaceAll((hash, k) -> k.tenant().equals(id) && !k.revoked() ? withRevokedAt(k, now) : k);
            s.providerKeys.values().removeIf(p -> p.tenant().equals(id));
            s.tenants.remove(id);
            return null;
        });
    }

    /** @throws ApiError 404 unknown tenant, 400 bad spec */
    public Created createKey(String tenant, KeySpec spec) {
        if (spec == null) {
            throw ApiError.invalidRequest(null, "A key needs at least a name.");
        }
        String name = checkLabel("name", spec.name());
        KeyKind kind = spec.kind() == null ? KeyKind.API : spec.kind();
        KeyLimits limits = spec.limits() == null ? KeyLimits.NONE : spec.limits();
        List<String> models = checkModels(spec.allowedModels() == null ? List.of() : spec.allowedModels());
        ZoneId zone = spec.zone() == null ? ZoneOffset.UTC : spec.zone();
        return change(s -> {
            if (!exists(s, tenant)) {
                throw noTenant(tenant);
            }
            String secret;
            String hash;
            do {
                secret = kind == KeyKind.ADMIN ? ApiKeys.generateAdmin() : ApiKeys.generate();
                hash = ApiKeys.sha256(secret);
            } while (find(s, ApiKey.idOf(hash)) != null); // ids are 48 bits of the hash: a clash is a freak
            ApiKey key = new ApiKey(ApiKey.idOf(hash), name, tenant, hash, limits, kind, models, zone, clock.instant(),
                    null, "admin");
            s.keys.put(hash, key);
            return new Created(key, secret);
        });
    }

    /** The tenant's keys, revoked ones included, oldest first. */
    public List<ApiKey> keys(String tenant) {
        return snapshot.keys.stream().filter(k -> k.tenant().equals(tenant)).toList();
    }

    /** Every key, revoked ones included, oldest first. */
    public List<ApiKey> allKeys() {
        return snapshot.keys;
    }

    public Optional<ApiKey> key(String id) {
        return Optional.ofNullable(snapshot.byId.get(id));
    }

    /** @throws ApiError 404 unknown, 409 a config or {@code BR_API_KEY} key or a revoked key, 400 bad update */
    public ApiKey updateKey(String id, KeyUpdate update) {
        if (update == null) {
            throw ApiError.invalidRequest(null, "Nothing to change.");
        }
        String name = update.name() == null ? null : checkLabel("name", update.name());
        List<String> models = update.allowedModels() == null ? null : checkModels(update.allowedModels());
        return change(s -> {
            ApiKey k = find(s, id);
            if (k == null) {
                throw noKey(id);
            }
            refuseFixed(k, "changed");
            if (k.revoked()) {
                throw ApiError.conflict("Key " + id + " is revoked; a revoked key cannot be changed.");
            }
            ApiKey changed = new ApiKey(k.id(), name == null ? k.name() : name, k.tenant(), k.sha256(),
                    update.limits() == null ? k.limits() : update.limits(), k.kind(),
                    models == null ? k.allowedModels() : models, update.zone() == null ? k.zone() : update.zone(),
                    k.createdAt(), null, k.source());
            s.keys.put(k.sha256(), changed);
            return changed;
        });
    }

    /**
     * Revokes a key: refused at once by this process, by its peers within {@value #RELOAD_MILLIS} ms.
     * Keys from config and {@code BR_API_KEY} can be revoked too; the revocation outlives restarts.
     * Revoking a revoked key returns it unchanged.
     *
     * @throws ApiError 404
     */
    public ApiKey revokeKey(String id) {
        return change(s -> {
            ApiKey k = find(s, id);
            if (k == null) {
                throw noKey(id);
            }
            if (k.revoked()) {
                return k;
            }
            ApiKey revoked = withRevokedAt(k, clock.instant());
            if (fixed.keys.containsKey(k.sha256())) {
                s.revokedFixedKeys.put(k.sha256(), revoked.revokedAt());
            } else {
                s.keys.put(k.sha256(), revoked);
            }
            return revoked;
        });
    }

    /**
     * Sets (or replaces) {@code tenant}'s key for provider account {@code provider}.
     *
     * @throws ApiError 404 unknown tenant or provider account, 400 for {@code sim} or an empty secret or one
     *                  with spaces or control characters, 409 a config key is set for it
     */
    public ProviderKeyInfo setProviderKey(String tenant, String provider, String secret) {
        if (SIM_PROVIDER.equals(provider)) {
            throw ApiError.invalidRequest("provider", "The simulated provider 'sim' needs no key.");
        }
        if (provider == null || !fixed.providers.contains(provider)) {
            throw ApiError.notFound("No provider account " + quote(provider) + " (known: "
                    + (fixed.providers.isEmpty() ? "none; add providers to conf/brainstorm.yaml"
                    : String.join(", ", new TreeSet<>(fixed.providers))) + ").");
        }
        if (secret == null || secret.isBlank()) {
            throw ApiError.invalidRequest("api_key", "The provider key is empty.");
        }
        if (secret.chars().anyMatch(c -> c <= ' ' || Character.isISOControl(c) || Character.isWhitespace(c))) {
            throw ApiError.invalidRequest("api_key", "The provider key contains spaces or control characters.");
        }
        return change(s -> {
            if (!exists(s, tenant)) {
                throw noTenant(tenant);
            }
            if (fixed.providerKeys.containsKey(RegistryState.slot(tenant, provider))) {
                throw ApiError.conflict("Tenant '" + tenant + "' has its key for '" + provider
                        + "' in conf/brainstorm.yaml; change it there.");
            }
            byte[] sealed = file == null ? null : file.seal(tenant, provider, secret);
            RegistryState.ProviderEntry p = new RegistryState.ProviderEntry(tenant, provider, secret, sealed,
                    clock.instant());
            s.providerKeys.put(RegistryState.slot(tenant, provider), p);
            return p.info();
        });
    }

    /** The tenant's provider keys as they may be shown, by provider; empty for an unknown tenant. */
    public List<ProviderKeyInfo> providerKeys(String tenant) {
        return snapshot.providerInfo.getOrDefault(tenant, List.of());
    }

    /** @throws ApiError 404 when the tenant has no such key, 409 for a key from config */
    public void deleteProviderKey(String tenant, String provider) {
        change(s -> {
            if (fixed.providerKeys.containsKey(RegistryState.slot(tenant, provider))) {
                throw ApiError.conflict("Tenant '" + tenant + "' has its key for '" + provider
                        + "' in conf/brainstorm.yaml; remove it there.");
            }
            if (s.providerKeys.remove(RegistryState.slot(tenant, provider)) == null) {
                throw ApiError.notFound("Tenant " + quote(tenant) + " has no key for " + quote(provider) + ".");
            }
            return null;
        });
    }

    /** Stops watching the file. The registry stays usable, but no longer sees peers' changes. */
    @Override
    public void close() {
        ScheduledExecutorService w = watcher;
        watcher = null;
        if (w != null) {
            // not shutdownNow: interrupting a read would be logged as a file that cannot be read
            w.shutdown();
            try {
                w.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- validation and lookups inside changes ----

    private static String checkLabel(String param, String value) {
        if (value == null || value.isBlank()) {
            throw ApiError.invalidRequest(param, "'" + param + "' is empty (expected: 1 to " + MAX_NAME_CHARS
                    + " characters).");
        }
        if (value.length() > MAX_NAME_CHARS) {
            throw ApiError.invalidRequest(param, "'" + param + "' has " + value.length() + " characters (expected: 1 to "
                    + MAX_NAME_CHARS + ").");
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            throw ApiError.invalidRequest(param, "'" + param + "' contains control characters.");
        }
        return value;
    }

    private static List<String> checkModels(List<String> models) {
        for (String m : models) {
            if (m == null || m.isEmpty() || m.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw ApiError.invalidRequest("allowed_models", "allowed_models: " + quote(m)
                        + " (expected: a model id such as 'sim/alpha', or 'provider/*', without spaces).");
            }
        }
        return List.copyOf(new LinkedHashSet<>(models));
    }

    /** A value for a message: quoted, cut to 64 characters, null as {@code null}. */
    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "'" + (s.length() > 64 ? s.substring(0, 64) + "…" : s) + "'";
    }

    private static ApiError noTenant(String id) {
        return ApiError.notFound("No tenant " + quote(id) + ".");
    }

    private static ApiError noKey(String id) {
        return ApiError.notFound("No key " + quote(id) + ".");
    }

    private static void refuseFixed(ApiKey k, String what) {
        if ("config".equals(k.source())) {
            throw ApiError.conflict("Key " + k.id() + " is defined in conf/brainstorm.yaml; it cannot be " + what
                    + " here (change it there).");
        }
        if ("env".equals(k.source())) {
            throw ApiError.conflict("Key " + k.id() + " comes from " + ENV_API_KEY + "; it cannot be " + what
                    + " here.");
        }
    }

    private static ApiKey withRevokedAt(ApiKey k, Instant at) {
        return new ApiKey(k.id(), k.name(), k.tenant(), k.sha256(), k.limits(), k.kind(), k.allowedModels(), k.zone(),
                k.createdAt(), at, k.source());
    }

    private boolean exists(RegistryState s, String tenant) {
        return tenant != null && (fixed.tenants.containsKey(tenant) || s.tenants.containsKey(tenant));
    }

    /** The key with id {@code id} as the state has it (config keys with their revocation), or null. */
    private @Nullable ApiKey find(RegistryState s, String id) {
        for (ApiKey k : fixed.keys.values()) {
            if (k.id().equals(id)) {
                Instant revoked = s.revokedFixedKeys.get(k.sha256());
                return revoked == null ? k : withRevokedAt(k, revoked);
            }
        }
        for (ApiKey k : s.keys.values()) {
            if (k.id().equals(id)) {
                return k;
            }
        }
        return null;
    }

    // ---- start and changes ----

    /** Reads the file (or imports keys.json), adds the start's secrets, writes what changed. Under the lock. */
    private synchronized void start() throws IOException {
        RegistryState s = null;
        if (file != null) {
            RegistryFile.Stamp stamp = file.stamp();
            byte[] bytes = file.read();
            Path legacy = file.path().resolveSibling(LEGACY_KEYS_FILE);
            if (bytes != null) {
                s = file.decode(bytes);
                lastBytes = bytes;
                lastStamp = stamp;
            } else if (Files.exists(legacy)) {
                s = RegistryFile.importLegacy(legacy, fixed.tenants.keySet(), clock.instant());
            }
        }
        if (s == null) {
            s = new RegistryState();
        }
        List<NewSecret> made = new ArrayList<>();
        boolean anyApiKey = fixed.keys.values().stream().anyMatch(k -> k.kind() == KeyKind.API)
                || s.keys.values().stream().anyMatch(k -> k.kind() == KeyKind.API);
        if (!anyApiKey) {
            String secret = ApiKeys.generate();
            String hash = ApiKeys.sha256(secret);
            s.keys.put(hash, new ApiKey(ApiKey.idOf(hash), "demo", DEFAULT_TENANT, hash, KeyLimits.NONE, KeyKind.API,
                    List.of(), ZoneOffset.UTC, clock.instant(), null, "demo"));
            made.add(new NewSecret("Demo API key", DEMO_KEY_FILE, secret));
        }
        if (fixed.adminTokenSha256 == null && s.adminTokenSha256 == null) {
            String secret = ApiKeys.generateAdmin();
            s.adminTokenSha256 = ApiKeys.sha256(secret);
            made.add(new NewSecret("Admin token", ADMIN_TOKEN_FILE, secret));
        }
        if (file != null) {
            write(s);
        }
        newSecrets = List.copyOf(made);
        state = s;
        publish();
    }

    private void watch() {
        ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "br-registry-watch");
            t.setDaemon(true);
            return t;
        });
        w.scheduleWithFixedDelay(this::poll, RELOAD_MILLIS, RELOAD_MILLIS, TimeUnit.MILLISECONDS);
        watcher = w;
    }

    /**
     * The watcher's check: reads the file when its stamp changed, and swaps the snapshot when its bytes
     * did. Package-private for tests, which call it instead of waiting for the watcher.
     */
    synchronized void poll() {
        try {
            RegistryFile.Stamp stamp = file.stamp();
            if (stamp == null || stamp.equals(lastStamp)) {
                return; // unchanged, or missing (between a hand's delete and the next write): keep what is known
            }
            byte[] bytes = file.read();
            // the stamp taken before reading: a write after the read changes it again, so it is read again
            lastStamp = stamp;
            if (bytes == null || Arrays.equals(bytes, lastBytes)) {
                return;
            }
            RegistryState s = file.decode(bytes);
            lastBytes = bytes;
            state = s;
            publish();
        } catch (IOException | RuntimeException e) {
            log.log(System.Logger.Level.WARNING, "{0} changed but cannot be read; keys, tenants and provider keys "
                    + "stay as they were: {1}", file.path(), e.getMessage());
        }
    }

    /**
     * Applies {@code apply} to a copy of the latest state and makes the result current: in memory, or
     * under the locks after reading the file again if a peer changed it, then writing it. {@code apply}
     * throws {@link ApiError} to refuse; nothing changes then.
     */
    private synchronized <T> T change(Function<RegistryState, T> apply) {
        if (file == null) {
            RegistryState next = state.copy();
            T result = apply.apply(next);
            state = next;
            publish();
            return result;
        }
        try {
            return file.locked(() -> {
                RegistryFile.Stamp stamp = file.stamp();
                byte[] bytes = file.read();
                if (bytes == null) {
                    lastBytes = null; // removed by hand: written again from what this process knows
                } else if (!Arrays.equals(bytes, lastBytes)) {
                    // a peer's change; one that does not read refuses this change rather than being overwritten
                    state = file.decode(bytes);
                    lastBytes = bytes;
                    lastStamp = stamp;
                    publish();
                }
                RegistryState next = state.copy();
                T result = apply.apply(next);
                if (write(next)) {
                    state = next;
                    publish();
                }
                return result;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Writes {@code s} unless the file holds it already; true when written. Under the lock. */
    private boolean write(RegistryState s) throws IOException {
        byte[] bytes = RegistryFile.encode(s);
        if (Arrays.equals(bytes, lastBytes)) {
            return false;
        }
        file.write(bytes);
        lastBytes = bytes;
        lastStamp = file.stamp();
        return true;
    }

    private void publish() {
        Snapshot old = snapshot;
        snapshot = Snapshot.of(old == null ? 1 : old.version + 1, fixed, state);
    }

    private static @Nullable String emptyToNull(@Nullable String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    // ---- values ----

    /** What config and the environment define; fixed for the life of the instance. */
    private record Fixed(Map<String, ApiKey> keys, Map<String, Tenant> tenants,
                         Map<String, ProviderSecret> providerKeys, Set<String> providers, @Nullable String adminTokenSha256) {

        static Fixed of(Bootstrap boot) {
            Map<String, ApiKey> keys = new LinkedHashMap<>();
            Map<String, Tenant> tenants = new TreeMap<>();
            tenants.put(DEFAULT_TENANT, configTenant(DEFAULT_TENANT));
            for (KeyConfig k : boot.keys()) {
                String tenant = k.tenant() == null ? DEFAULT_TENANT : k.tenant();
                keys.put(k.sha256(), new ApiKey(ApiKey.idOf(k.sha256()), k.name(), tenant, k.sha256(),
                        new KeyLimits(k.dailyBudgetNano(), k.rpm(), k.tpm()), KeyKind.API, k.allowedModels(),
                        k.zone() == null ? ZoneOffset.UTC : k.zone(), Instant.EPOCH, null, "config"));
                tenants.putIfAbsent(tenant, configTenant(tenant));
            }
            String env = emptyToNull(boot.envApiKey());
            if (env != null) {
                if (!ApiKeys.isWellFormed(env)) {
                    throw new IllegalArgumentException(ENV_API_KEY + ": " + ApiKeys.hint(env)
                            + " (expected: 'br_live_' followed by 32 letters or digits)");
                }
                String hash = ApiKeys.sha256(env);
                keys.putIfAbsent(hash, new ApiKey(ApiKey.idOf(hash), "env", DEFAULT_TENANT, hash, KeyLimits.NONE,
                        KeyKind.API, List.of(), ZoneOffset.UTC, Instant.EPOCH, null, "env"));
            }
            Map<String, ProviderSecret> providerKeys = new HashMap<>();
            for (ProviderSecret p : boot.providerKeys()) {
                if (p.secret() == null || p.secret().isEmpty()) {
                    continue;
                }
                String tenant = p.tenant() == null ? DEFAULT_TENANT : p.tenant();
                providerKeys.put(RegistryState.slot(tenant, p.provider()), new ProviderSecret(tenant, p.provider(), p.secret()));
                tenants.putIfAbsent(tenant, configTenant(tenant));
            }
            String token = emptyToNull(boot.adminToken());
            if (token != null && (token.length() < MIN_ADMIN_TOKEN_CHARS
                    || token.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c)))) {
                throw new IllegalArgumentException(ENV_ADMIN_TOKEN + ": " + token.length() + " characters (expected: at "
                        + "least " + MIN_ADMIN_TOKEN_CHARS + ", without spaces or control characters; e.g. from "
                        + "'openssl rand -base64 32')");
            }
            return new Fixed(Collections.unmodifiableMap(keys), Map.copyOf(tenants), Map.copyOf(providerKeys), boot.providers(),
                    token == null ? null : ApiKeys.sha256(token));
        }

        private static Tenant configTenant(String id) {
            return new Tenant(id, id, Instant.EPOCH, "config");
        }
    }

    /** What the request path reads: immutable, swapped whole. */
    private record Snapshot(long version, Map<String, ApiKey> byHash, Map<String, ApiKey> byId, List<ApiKey> keys,
                            Map<String, Tenant> tenants, Map<String, Map<String, String>> providerSecrets,
                            Map<String, List<ProviderKeyInfo>> providerInfo, @Nullable String adminTokenSha256) {

        static Snapshot of(long version, Fixed fixed, @Nullable RegistryState s) {
            Map<String, ApiKey> byHash = new LinkedHashMap<>();
            for (ApiKey k : fixed.keys.values()) {
                Instant revoked = s.revokedFixedKeys.get(k.sha256());
                byHash.put(k.sha256(), revoked == null ? k : withRevokedAt(k, revoked));
            }
            s.keys.forEach(byHash::putIfAbsent);
            // a stable sort: keys made in the same instant stay in the order they were made
            List<ApiKey> keys = new ArrayList<>(byHash.values());
            keys.sort(Comparator.comparing(ApiKey::createdAt));
            keys = List.copyOf(keys);
            Map<String, ApiKey> byId = new HashMap<>();
            keys.forEach(k -> byId.put(k.id(), k));

            Map<String, Tenant> tenants = new TreeMap<>(s.tenants);
            tenants.putAll(fixed.tenants);

            Map<String, Map<String, String>> secrets = new HashMap<>();
            Map<String, Map<String, ProviderKeyInfo>> info = new HashMap<>();
            for (RegistryState.ProviderEntry p : s.providerKeys.values()) {
                secrets.computeIfAbsent(p.tenant(), t -> new HashMap<>()).put(p.provider(), p.secret());
                info.computeIfAbsent(p.tenant(), t -> new TreeMap<>()).put(p.provider(), p.info());
            }
            for (ProviderSecret p : fixed.providerKeys.values()) {
                secrets.computeIfAbsent(p.tenant(), t -> new HashMap<>()).put(p.provider(), p.secret());
                info.computeIfAbsent(p.tenant(), t -> new TreeMap<>()).put(p.provider(),
                        new ProviderKeyInfo(p.tenant(), p.provider(), RegistryState.fingerprint(p.secret()), Instant.EPOCH, "config"));
            }
            Map<String, Map<String, String>> frozenSecrets = new HashMap<>();
            secrets.forEach((t, m) -> frozenSecrets.put(t, Map.copyOf(m)));
            Map<String, List<ProviderKeyInfo>> frozenInfo = new HashMap<>();
            info.forEach((t, m) -> frozenInfo.put(t, List.copyOf(m.values())));
            return new Snapshot(version, Map.copyOf(byHash), Map.copyOf(byId), keys,
                    Collections.unmodifiableMap(tenants), Map.copyOf(frozenSecrets), Map.copyOf(frozenInfo),
                    fixed.adminTokenSha256 != null ? fixed.adminTokenSha256 : s.adminTokenSha256);
        }

        @Override
        public String toString() {
            return "Snapshot[version=" + version + ", keys=" + keys.size() + ", tenants=" + tenants.size() + "]";
        }
    }
}
