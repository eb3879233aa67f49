package io.brainstorm.proxy.route;

import org.jspecify.annotations.Nullable;

/**
 * What the calling key may reach (docs/architecture.md §5, §6): the models it is allowed, and the endpoints its
 * tenant holds a provider key for. Routing offers a strategy only endpoints the key may reach, and
 * the upstream call sends {@link #upstreamKey} — the tenant's own provider key, never the gateway key.
 *
 * <p><b>Threading:</b> called on event loops; implementations read immutable snapshots.
 */
public interface Access {

    /** The calling key's tenant. */
    String tenant();

    /** True when the key may use {@code modelId} ({@code provider/model}, no variant). */
    boolean allowsModel(String modelId);

    /**
     * The provider key to send to {@code endpoint}: the simulated provider's own for its
     * endpoints, otherwise the tenant's key for the endpoint's provider account; null when the
     * tenant has none (the endpoint is then not eligible). A secret.
     */
    @Nullable
    String upstreamKey(Endpoint endpoint);

    /** True when the key can reach {@code endpoint}. */
    default boolean reaches(Endpoint endpoint) {
        return upstreamKey(endpoint) != null;
    }

    /**
     * Every model, and the endpoints' own keys ({@link Endpoint#apiKey()}): for tests and tools
     * that route without a tenant registry.
     */
    static Access all(String tenant) {
        return new Access() {
            @Override
            public String tenant() {
                return tenant;
            }

            @Override
            public boolean allowsModel(String modelId) {
                return true;
            }

            @Override
            public @Nullable String upstreamKey(@Nullable Endpoint endpoint) {
                return endpoint.apiKey();
            }
        };
    }
}
