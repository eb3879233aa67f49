package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.Endpoint;
import org.jspecify.annotations.Nullable;

/**
 * What an authenticated API key may reach: the models it allows, and the endpoints its tenant
 * holds a provider key for in the {@link Registry} (the simulated provider's endpoints carry their
 * own key and are open to every tenant).
 */
public record KeyAccess(ApiKey key, Registry registry) implements Access {

    @Override
    public String tenant() {
        return key.tenant();
    }

    @Override
    public boolean allowsModel(String modelId) {
        return key.allows(modelId);
    }

    @Override
    public @Nullable String upstreamKey(Endpoint endpoint) {
        String own = endpoint.apiKey();
        return own != null ? own : registry.providerKey(key.tenant(), endpoint.id());
    }

    @Override
    public String toString() {
        return "KeyAccess[" + key.id() + " of " + key.tenant() + "]";
    }
}
