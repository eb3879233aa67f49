package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What the request path reads from a {@link Registry}: keys, tenants and provider keys as of one
 * version, with the lookups that authenticate a caller. Made whole from the fixed entries and the
 * state after every change, and swapped whole; each snapshot starts an empty {@link VerdictCache}, so
 * what it remembers of API key lookups never outlives the state it was made from.
 *
 * <p><b>Threading:</b> immutable; the lookups run on event loops and never block.
 */
record RegistrySnapshot(
        long version,
        Map<String, ApiKey> byHash,
        Map<String, ApiKey> byId,
        List<ApiKey> keys,
        Map<String, Tenant> tenants,
        Map<String, Map<String, String>> providerSecrets,
        Map<String, List<ProviderKeyInfo>> providerInfo,
        @Nullable String adminTokenSha256,
        VerdictCache verdicts) {

    static RegistrySnapshot of(long version, FixedEntries fixed, RegistryState s, VerdictCache.Hash hash) {
        Map<String, ApiKey> byHash = new LinkedHashMap<>();
        for (ApiKey k : fixed.keys().values()) {
            Instant revoked = s.revokedFixedKeys.get(k.sha256());
            byHash.put(k.sha256(), revoked == null ? k : k.withRevokedAt(revoked));
        }
        s.keys.forEach(byHash::putIfAbsent);
        // a stable sort: keys made in the same instant stay in the order they were made
        List<ApiKey> keys = new ArrayList<>(byHash.values());
        keys.sort(Comparator.comparing(ApiKey::createdAt));
        keys = List.copyOf(keys);
        Map<String, ApiKey> byId = new HashMap<>();
        keys.forEach(k -> byId.put(k.id(), k));

        Map<String, Tenant> tenants = new TreeMap<>(s.tenants);
        tenants.putAll(fixed.tenants());

        Map<String, Map<String, String>> secrets = new HashMap<>();
        Map<String, Map<String, ProviderKeyInfo>> info = new HashMap<>();
        for (RegistryState.ProviderEntry p : s.providerKeys.values()) {
            secrets.computeIfAbsent(p.tenant(), t -> new HashMap<>()).put(p.provider(), p.secret());
            info.computeIfAbsent(p.tenant(), t -> new TreeMap<>()).put(p.provider(), p.info());
        }
        for (Registry.ProviderSecret p : fixed.providerKeys().values()) {
            secrets.computeIfAbsent(p.tenant(), t -> new HashMap<>()).put(p.provider(), p.secret());
            info.computeIfAbsent(p.tenant(), t -> new TreeMap<>())
                    .put(
                            p.provider(),
                            new ProviderKeyInfo(
                                    p.tenant(),
                                    p.provider(),
                                    RegistryState.fingerprint(p.secret()),
                                    Instant.EPOCH,
                                    "config"));
        }
        Map<String, Map<String, String>> frozenSecrets = new HashMap<>();
        secrets.forEach((t, m) -> frozenSecrets.put(t, Map.copyOf(m)));
        Map<String, List<ProviderKeyInfo>> frozenInfo = new HashMap<>();
        info.forEach((t, m) -> frozenInfo.put(t, List.copyOf(m.values())));
        return new RegistrySnapshot(
                version,
                Map.copyOf(byHash),
                Map.copyOf(byId),
                keys,
                Collections.unmodifiableMap(tenants),
                Map.copyOf(frozenSecrets),
                Map.copyOf(frozenInfo),
                fixed.adminTokenSha256() != null ? fixed.adminTokenSha256() : s.adminTokenSha256,
                new VerdictCache(keys.size(), hash));
    }

    /**
     * See {@link Registry#authenticate}. A key this snapshot found before is confirmed from its
     * {@link VerdictCache} without hashing or allocating; any other is looked up by its SHA-256.
     */
    ApiKey authenticate(@Nullable String authorization) {
        if (authorization == null || authorization.isEmpty()) {
            throw ApiError.invalidApiKey("Missing API key. Send it as 'Authorization: Bearer br_live_…'.");
        }
        if (!isBearer(authorization)) {
            throw ApiError.invalidApiKey("Malformed Authorization header (expected: 'Bearer br_live_…').");
        }
        // the secret is authorization.substring(7).trim(), kept as a range so that a hit copies nothing
        int from = 7;
        int to = authorization.length();
        while (from < to && authorization.charAt(from) <= ' ') {
            from++;
        }
        while (to > from && authorization.charAt(to - 1) <= ' ') {
            to--;
        }
        if (authorization.startsWith(ApiKeys.ADMIN_PREFIX, from)) {
            throw adminKeyOnApi();
        }
        if (!ApiKeys.isWellFormed(authorization, from, to)) {
            throw ApiError.invalidApiKey("Malformed API key (expected: 'br_live_' followed by 32 letters or digits).");
        }
        long h = verdicts.hash(authorization, from, to);
        ApiKey key = verdicts.get(h, authorization, from, to);
        if (key == null) {
            String secret = authorization.substring(from, to);
            key = byHash.get(ApiKeys.sha256(secret));
            if (key == null) {
                throw ApiError.invalidApiKey("Incorrect API key provided: " + ApiKeys.hint(secret) + ".");
            }
            verdicts.put(h, secret, key);
        }
        if (key.kind() != KeyKind.API) {
            throw adminKeyOnApi();
        }
        if (key.revoked()) {
            throw ApiError.invalidApiKey("This API key was revoked.");
        }
        return key;
    }

    /** See {@link Registry#authenticateAdmin}. */
    AdminPrincipal authenticateAdmin(@Nullable String authorization) {
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
        String hash = ApiKeys.sha256(token);
        if (adminTokenSha256 != null
                && MessageDigest.isEqual(
                        hash.getBytes(StandardCharsets.US_ASCII),
                        adminTokenSha256.getBytes(StandardCharsets.US_ASCII))) {
            return AdminPrincipal.SUPER;
        }
        ApiKey key = byHash.get(hash);
        if (key != null && key.kind() == KeyKind.ADMIN) {
            if (key.revoked()) {
                throw ApiError.invalidApiKey("This admin key was revoked.");
            }
            return new AdminPrincipal(key.tenant(), key.id());
        }
        throw ApiError.invalidApiKey(
                ApiKeys.isWellFormedAdmin(token)
                        ? "Incorrect admin key provided: " + ApiKeys.hint(token) + "."
                        : "Incorrect admin token provided.");
    }

    /** {@code tenant}'s key for {@code provider}, or null. A secret. */
    @Nullable
    String providerKey(String tenant, String provider) {
        Map<String, String> keys = providerSecrets.get(tenant);
        return keys == null ? null : keys.get(provider);
    }

    private static ApiError adminKeyOnApi() {
        return ApiError.invalidApiKey("Admin keys (br_admin_…) open the admin API only; send a br_live_ API key here.");
    }

    private static boolean isBearer(String authorization) {
        return authorization.length() >= 7 && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
    }

    @Override
    public String toString() {
        return "RegistrySnapshot[version=" + version + ", keys=" + keys.size() + ", tenants=" + tenants.size() + "]";
    }
}
