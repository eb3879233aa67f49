package io.brainstorm.proxy.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The whole validated configuration: {@code brainstorm.yaml} after {@code ${ENV}} substitution,
 * plus the catalog it points at.
 *
 * @param server    the client listener
 * @param admin     the admin listener
 * @param sim       the simulated provider
 * @param providers upstream accounts
 * @param keys      API keys defined in config
 * @param catalog   the price and capability catalog
 * @param stateDir  where state files live
 * @param routing   plugins, failover, learning, circuit breakers, strategy settings
 * @param store     {@code state_store}: files under {@code stateDir} (Chronicle Map, shared by
 *                  processes on the host), the heap (lost at exit), or Redis (shared by gateways)
 * @param scoring   the answer scorer
 * @param audit     the audit trail
 */
public record GatewayConfig(
        ServerConfig server,
        AdminConfig admin,
        SimConfig sim,
        List<ProviderConfig> providers,
        List<KeyConfig> keys,
        Catalog catalog,
        Path stateDir,
        RoutingConfig routing,
        StateStoreConfig store,
        ScoringConfig scoring,
        AuditConfig audit) {

    public GatewayConfig {
        providers = List.copyOf(providers);
        keys = List.copyOf(keys);
    }

    /** Budgets, rate windows and learning live in files under {@code stateDir}. */
    public boolean persistentState() {
        return store.kind() == StateStoreConfig.Kind.FILES;
    }
}
