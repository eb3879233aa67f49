package io.brainstorm.proxy.route;

import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.upstream.Origin;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * One way to reach a model: the model at one provider account (docs/architecture.md §5).
 *
 * @param id            the account's name, shown in {@code X-BR-Endpoint} ({@code sim-east}, {@code openai})
 * @param model         the catalog entry
 * @param price         what this account charges for it
 * @param origin        where requests go
 * @param basePath      the base URL's path, e.g. {@code /v1}, without a trailing slash
 * @param apiKey        the key every tenant sends (the simulated provider's), or null for a real
 *                      provider account, where each tenant sends its own ({@link Access}); a
 *                      secret, hidden by {@link #toString()}
 * @param timeouts      upstream timeouts
 * @param simulated     true for the built-in sim provider
 * @param azure         how an Azure OpenAI account is addressed ({@link AzureTarget}); null for
 *                      every other endpoint, whose requests go to {@code basePath + path} with
 *                      {@code Authorization: Bearer}
 * @param anthropic     how an Anthropic account is addressed ({@link AnthropicTarget}); null for
 *                      every other endpoint. Its requests and answers are in Anthropic's format.
 */
public record Endpoint(
        String id,
        ModelSpec model,
        Price price,
        Origin origin,
        String basePath,
        @Nullable String apiKey,
        Timeouts timeouts,
        boolean simulated,
        @Nullable AzureTarget azure,
        @Nullable AnthropicTarget anthropic) {

    /** An endpoint of an OpenAI-compatible account or of the sim provider. */
    public Endpoint(
            String id,
            ModelSpec model,
            Price price,
            Origin origin,
            String basePath,
            @Nullable String apiKey,
            Timeouts timeouts,
            boolean simulated) {
        this(id, model, price, origin, basePath, apiKey, timeouts, simulated, null, null);
    }

    /**
     * The model name the provider knows, written into each attempt's body: the deployment name at
     * an Azure account (the v1 form needs it; the deployment form ignores it).
     */
    public String upstreamModel() {
        return azure == null ? model.upstreamName() : azure.deployment();
    }

    /**
     * The request target (path and query) of an upstream request to {@code path}, e.g.
     * {@code /chat/completions}; at an Anthropic account always its Messages path.
     */
    public String requestTarget(String path) {
        if (anthropic != null) {
            return basePath + AnthropicTarget.MESSAGES_PATH;
        }
        return azure == null ? basePath + path : azure.target(basePath, path);
    }

    /** Unique among endpoints: {@code <model>@<account>}, e.g. {@code sim/alpha@sim-east}; the key of health and learning state. */
    public String candidateId() {
        return model.id() + "@" + id;
    }

    /** This endpoint as a routing strategy sees it, with {@code stats} observed so far. */
    public Candidate candidate(EndpointStats stats) {
        return Candidate.builder()
                .id(candidateId())
                .endpoint(id)
                .model(model.id())
                .inputNanoUsdPerMillion(price.inputNanoPerM())
                .outputNanoUsdPerMillion(price.outputNanoPerM())
                .capabilities(capabilityNames(model.capabilities()))
                .contextLength(model.contextLength())
                .maxOutputTokens(model.maxOutputTokens())
                .stats(stats)
                .build();
    }

    static Set<String> capabilityNames(Set<Capability> capabilities) {
        return capabilities.stream()
                .map(c -> c.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
    }

    @Override
    public String toString() {
        return "Endpoint[" + id + " → " + model.id() + " at " + origin + basePath + "]";
    }
}
