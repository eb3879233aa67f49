package io.brainstorm.proxy.config;

import java.util.List;
import java.util.Set;

/**
 * One entry of the price and capability catalog ({@code conf/models.yaml}).
 *
 * @param id              {@code provider/model}, e.g. {@code openai/gpt-4o}
 * @param provider        the part before the slash
 * @param upstreamName    the name the provider knows the model by (the part after the slash unless set)
 * @param aliases         bare names that resolve to this model ({@code gpt-4o}); unique across the catalog
 * @param contextLength   tokens of context
 * @param maxOutputTokens the provider's cap on completion tokens
 * @param price           list price per million tokens
 * @param capabilities    what the model supports
 * @param simulated       true for the built-in {@code sim} models
 * @param endpoints       the simulated endpoints (sim models only; empty otherwise)
 * @param created         unix seconds, reported by {@code /v1/models}
 */
public record ModelSpec(
        String id,
        String provider,
        String upstreamName,
        List<String> aliases,
        long contextLength,
        long maxOutputTokens,
        Price price,
        Set<Capability> capabilities,
        boolean simulated,
        List<EndpointSpec> endpoints,
        long created) {

    public ModelSpec {
        aliases = List.copyOf(aliases);
        capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(capabilities);
        endpoints = List.copyOf(endpoints);
    }

    public boolean supports(Capability capability) {
        return capabilities.contains(capability);
    }
}
