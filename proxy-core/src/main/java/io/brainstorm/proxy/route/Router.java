package io.brainstorm.proxy.route;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.settle.Cost;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a requested model name into an ordered list of endpoints (DESIGN §3, §5).
 *
 * <p>Names: {@code provider/model}, a bare OpenAI name resolved through catalog aliases
 * ({@code gpt-4o} → {@code openai/gpt-4o}), optionally with a variant suffix. This release routes
 * plain names only ({@code direct}: the model's endpoints in configured order); the routing
 * strategies ({@code :floor}, {@code :fast}, {@code :best}, {@code :smart}, {@code auto}) are not
 * built yet and get a 404 that says so.
 *
 * <p><b>Threading:</b> immutable after construction; called on event loops.
 */
public final class Router {
    /** Expected completion tokens when the request sets no limit, for cost estimates only. */
    static final long DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;
    static final double PRIOR_QUALITY = 0.5;

    private final Catalog catalog;
    private final Map<String, List<Endpoint>> endpointsByModel;

    public Router(Catalog catalog, List<Endpoint> endpoints) {
        this.catalog = catalog;
        Map<String, List<Endpoint>> byModel = new HashMap<>();
        for (Endpoint e : endpoints) {
            byModel.computeIfAbsent(e.model().id(), k -> new ArrayList<>()).add(e);
        }
        byModel.replaceAll((k, v) -> List.copyOf(v));
        this.endpointsByModel = Map.copyOf(byModel);
    }

    /** The models some endpoint can serve, in catalog order. */
    public List<ModelSpec> routableModels() {
        List<ModelSpec> out = new ArrayList<>();
        for (ModelSpec m : catalog.models()) {
            if (endpointsByModel.containsKey(m.id())) {
                out.add(m);
            }
        }
        return out;
    }

    public List<Endpoint> endpoints(String modelId) {
        return endpointsByModel.getOrDefault(modelId, List.of());
    }

    /**
     * @throws ApiError 404 {@code model_not_found} for an unknown model or variant or a model with no
     *                  endpoint; 400 when the model lacks a capability the request needs
     */
    public RouteDecision route(String requested, RequestFeatures features) {
        String name = requested;
        String variant = null;
        int colon = requested.lastIndexOf(':');
        if (colon > 0) {
            name = requested.substring(0, colon);
            variant = requested.substring(colon + 1);
        }
        if (requested.equals("auto") || requested.startsWith("auto:")) {
            throw ApiError.modelNotFound("The model 'auto' is not available yet: automatic routing is not built in"
                    + " this release. Name a model, e.g. 'sim/alpha'.");
        }
        Optional<ModelSpec> found = catalog.find(name);
        if (found.isEmpty()) {
            throw ApiError.modelNotFound("The model '" + name + "' does not exist in the gateway's catalog."
                    + " GET /v1/models lists the models this key can use.");
        }
        ModelSpec model = found.get();
        if (variant != null) {
            throw ApiError.modelNotFound(variantMessage(model.id(), variant));
        }
        List<Endpoint> candidates = endpointsByModel.get(model.id());
        if (candidates == null) {
            throw ApiError.modelNotFound("The model '" + model.id() + "' has no endpoint: no provider key is"
                    + " configured for provider '" + model.provider() + "'.");
        }
        checkCapabilities(model, features);
        return new RouteDecision(model, "direct", candidates, efficiency(candidates.get(0), candidates, features));
    }

    private static String variantMessage(String modelId, String variant) {
        String nearest = switch (variant) {
            case "free", "nitro" -> "'" + modelId + "' (the ':fast' variant is not built yet)";
            case "online" -> "'" + modelId + "' (web search is not offered by this gateway)";
            default -> "'" + modelId + "'";
        };
        return "The variant ':" + variant + "' is not available: routing variants (:floor, :fast, :best, :smart)"
                + " are not built in this release. Nearest: " + nearest + ".";
    }

    private static void checkCapabilities(ModelSpec model, RequestFeatures f) {
        boolean embeddingModel = model.supports(Capability.EMBEDDINGS);
        if (f.embeddings() && !embeddingModel) {
            throw ApiError.invalidRequest("model", "The model '" + model.id() + "' does not create embeddings.");
        }
        if (!f.embeddings() && embeddingModel && model.capabilities().size() == 1) {
            throw ApiError.invalidRequest("model", "The model '" + model.id()
                    + "' is an embeddings model; use POST /v1/embeddings.");
        }
        if (f.tools() && !model.supports(Capability.TOOLS)) {
            throw ApiError.invalidRequest("tools", "The model '" + model.id() + "' does not support tools.");
        }
        if (f.json() && !model.supports(Capability.JSON)) {
            throw ApiError.invalidRequest("response_format", "The model '" + model.id()
                    + "' does not support JSON response formats.");
        }
        if (f.estimatedInputTokens() > model.contextLength()) {
            throw ApiError.invalidRequest("messages", "The request needs about " + f.estimatedInputTokens()
                    + " tokens; the model '" + model.id() + "' has a context of " + model.contextLength() + ".");
        }
    }

    /** DESIGN §3 {@code X-BR-Efficiency}, with the prior quality until learning state exists. */
    static double efficiency(Endpoint pick, List<Endpoint> eligible, RequestFeatures f) {
        long pickCost = estimatedCost(pick, f);
        long cheapest = pickCost;
        for (Endpoint e : eligible) {
            cheapest = Math.min(cheapest, estimatedCost(e, f));
        }
        double ratio = pickCost == 0 ? 1.0 : (double) cheapest / pickCost;
        return PRIOR_QUALITY * ratio;
    }

    /** Estimated nano-USD of a request at an endpoint's price. */
    public static long estimatedCost(Endpoint e, RequestFeatures f) {
        long out = f.maxOutputTokens() >= 0 ? f.maxOutputTokens()
                : Math.min(DEFAULT_EXPECTED_OUTPUT_TOKENS, Math.max(0, e.model().maxOutputTokens()));
        if (f.embeddings()) {
            out = 0;
        }
        return Cost.tokensNano(f.estimatedInputTokens(), e.price().inputNanoPerM())
                + Cost.tokensNano(out, e.price().outputNanoPerM());
    }
}
