package io.brainstorm.proxy.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.settle.Cost;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /v1/models}: the models a key can reach, in OpenAI's list shape ({@code id},
 * {@code object}, {@code created}, {@code owned_by}) plus OpenRouter-style {@code pricing}
 * (per-token USD strings), {@code context_length} and {@code supported_parameters}, the routing
 * {@code variants} a model name may carry ({@code sim/alpha:floor}) and its {@code endpoints}; plus
 * {@code auto} when that strategy is installed. Each model's JSON is built once at start (the
 * endpoint set and the strategies do not change while the gateway runs); a request gets the models
 * its key may use and its tenant holds a provider key for ({@link Access}).
 */
public final class ModelList {
    private final Router router;
    private final Map<String, String> modelJson;
    private final @Nullable String autoJson;

    public ModelList(Router router) {
        this.router = router;
        Map<String, String> byId = new HashMap<>();
        List<String> variants = router.variants();
        for (ModelSpec m : router.routableModels()) {
            byId.put(m.id(), describe(m, router.endpoints(m.id()), variants).toString());
        }
        this.modelJson = Map.copyOf(byId);
        this.autoJson = router.strategies().strategy(Router.AUTO).isPresent() ? auto().toString() : null;
    }

    /** {@code GET /v1/models} for a key: the models it can reach, in catalog order, then {@code auto}. */
    public String listJson(Access access) {
        StringBuilder sb = new StringBuilder(4096).append("{\"object\":\"list\",\"data\":[");
        boolean any = false;
        for (ModelSpec m : router.routableModels()) {
            if (reaches(m, access)) {
                sb.append(any ? "," : "").append(modelJson.get(m.id()));
                any = true;
            }
        }
        if (any && autoJson != null) {
            sb.append(',').append(autoJson);
        }
        return sb.append("]}").toString();
    }

    /** {@code GET /v1/models/{id}} for a key: empty when it does not exist or the key cannot reach it. */
    public Optional<String> modelJson(String id, Access access) {
        if (id.equals(Router.AUTO)) {
            boolean any = router.routableModels().stream().anyMatch(m -> reaches(m, access));
            return Optional.ofNullable(any ? autoJson : null);
        }
        return router.routableModels().stream()
                .filter(m -> m.id().equals(id) && reaches(m, access))
                .findFirst()
                .map(m -> modelJson.get(m.id()));
    }

    private boolean reaches(ModelSpec m, Access access) {
        if (!access.allowsModel(m.id())) {
            return false;
        }
        for (Endpoint e : router.endpoints(m.id())) {
            if (access.reaches(e)) {
                return true;
            }
        }
        return false;
    }

    /** {@code auto}: not a model but a choice among them, priced per request (OpenRouter shows -1). */
    private static ObjectNode auto() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", Router.AUTO);
        o.put("object", "model");
        o.put("created", 0);
        o.put("owned_by", "brainstorm-proxy");
        o.put("name", "auto (chooses model and endpoint per request)");
        o.put(
                "description",
                "Routes each request to the model and endpoint with the best learnt quality for the"
                        + " price among those this key can use and that fit the request (tools, JSON, context).");
        ObjectNode pricing = o.putObject("pricing");
        pricing.put("prompt", "-1");
        pricing.put("completion", "-1");
        o.putArray("variants");
        return o;
    }

    private static ObjectNode describe(ModelSpec m, List<Endpoint> endpoints, List<String> variants) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", m.created());
        o.put("owned_by", m.provider());
        o.put("name", m.simulated() ? m.id() + " (simulated)" : m.id());
        o.put("context_length", m.contextLength());
        ObjectNode pricing = o.putObject("pricing");
        pricing.put("prompt", Cost.perTokenUsd(m.price().inputNanoPerM()));
        pricing.put("completion", Cost.perTokenUsd(m.price().outputNanoPerM()));
        pricing.put("input_cache_read", Cost.perTokenUsd(m.price().cachedInputNanoPerM()));
        pricing.put("input_cache_write", Cost.perTokenUsd(m.price().cacheWriteNanoPerM()));
        ObjectNode top = o.putObject("top_provider");
        top.put("context_length", m.contextLength());
        top.put("max_completion_tokens", m.maxOutputTokens());
        ArrayNode params = o.putArray("supported_parameters");
        if (m.supports(Capability.EMBEDDINGS) && m.capabilities().size() == 1) {
            params.add("input").add("encoding_format").add("dimensions");
        } else {
            params.add("max_tokens")
                    .add("max_completion_tokens")
                    .add("temperature")
                    .add("stream");
            if (m.supports(Capability.TOOLS)) {
                params.add("tools").add("tool_choice");
            }
            if (m.supports(Capability.JSON)) {
                params.add("response_format").add("structured_outputs");
            }
        }
        ArrayNode vs = o.putArray("variants");
        for (String v : variants) {
            vs.add(v);
        }
        ArrayNode eps = o.putArray("endpoints");
        for (Endpoint e : endpoints) {
            eps.add(e.id());
        }
        if (m.simulated()) {
            o.put("simulated", true);
        }
        return o;
    }
}
