package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API keys the gateway accepts, by SHA-256. Looking a key up hashes the presented secret and
 * finds the hash, so the secret is never stored and lookups take the same path for every key.
 *
 * <p><b>Threading:</b> lookups run on event loops concurrently with additions; the map is concurrent.
 */
public final class KeyRing {
    private final Map<String, ApiKey> byHash = new ConcurrentHashMap<>();

    public void add(ApiKey key) {
        byHash.put(key.sha256(), key);
    }

    public boolean isEmpty() {
        return byHash.isEmpty();
    }

    public Collection<ApiKey> keys() {
        return List.copyOf(byHash.values());
    }

    /**
     * The key named by an {@code Authorization} header value.
     *
     * @throws ApiError 401 {@code invalid_api_key} when missing, malformed or unknown
     */
    public ApiKey authenticate(String authorization) {
        if (authorization == null || authorization.isEmpty()) {
            throw ApiError.invalidApiKey("Missing API key. Send it as 'Authorization: Bearer br_live_…'.");
        }
        if (authorization.length() < 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.invalidApiKey("Malformed Authorization header (expected: 'Bearer br_live_…').");
        }
        String secret = authorization.substring(7).trim();
        if (!ApiKeys.isWellFormed(secret)) {
            throw ApiError.invalidApiKey("Malformed API key (expected: 'br_live_' followed by 32 letters or digits).");
        }
        ApiKey key = byHash.get(ApiKeys.sha256(secret));
        if (key == null) {
            throw ApiError.invalidApiKey("Incorrect API key provided: " + ApiKeys.hint(secret) + ".");
        }
        return key;
    }
}
