package io.brainstorm.proxy.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.settle.Cost;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/models}: the models a key can reach, in OpenAI's list shape ({@code id},
 * {@code object}, {@code created}, {@code owned_by}) plus OpenRouter-style {@code pricing}
 * (per-token USD strings), {@code context_length} and {@code supported_parameters}, the routing
 * {@code variants} a model name may carry ({@code sim/alpha:floor}) and its {@code endpoints}; plus
 * {@code auto} when that strategy is installed. Built once at start: the endpoint set and the
 * strategies do not change while the gateway runs.
 */
public final class ModelList {
    private final String listJson;
    private final Map<String, String> modelJson;

    public ModelList(Router router) {
        ObjectNode root = ParsedRequest.JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        Map<String, String> byId = new HashMap<>();
        List<String> variants = router.variants();
        for (ModelSpec m : router.routableModels()) {
            ObjectNode o = describe(m, router.endpoints(m.id()), variants);
            data.add(o);
            byId.put(m.id(), o.toString());
        }
        if (router.strategies().strategy(Router.AUTO).isPresent() && !router.routableModels().isEmpty()) {
            ObjectNode auto = auto();
            data.add(auto);
            byId.put(Router.AUTO, auto.toString());
        }
        this.listJson = root.toString();
        this.modelJson = Map.copyOf(byId);
    }

    /** {@code auto}: not a model but a choice among them, priced per request (OpenRouter shows -1). */
    private static ObjectNode auto() {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("id", Router.AUTO);
        o.put("object", "model");
        o.put("created", 0);
        o.put("owned_by", "brainstorm-proxy");
        o.put("name", "auto (chooses model and endpoint per request)");
        o.put("description", "Routes each request to the model and endpoint with the best learnt quality for the"
                + " price among those this key can use and that fit the request (tools, JSON, context).");
        ObjectNode pricing = o.putObject("pricing");
        pricing.put("prompt", "-1");
        pricing.put("completion", "-1");
        o.putArray("variants");
        return o;
    }

    private static ObjectNode describe(ModelSpec m, List<Endpoint> endpoints, List<String> variants) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
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
        ObjectNode top = o.putObject("top_provider");
        top.put("context_length", m.contextLength());
        top.put("max_completion_tokens", m.maxOutputTokens());
        ArrayNode params = o.putArray("supported_parameters");
        if (m.supports(Capability.EMBEDDINGS) && m.capabilities().size() == 1) {
            params.add("input").add("encoding_format").add("dimensions");
        } else {
            params.add("max_tokens").add("max_completion_tokens").add("temperature").add("stream");
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

    public String listJson() {
        return listJson;
    }

    public Optional<String> modelJson(String id) {
        return Optional.ofNullable(modelJson.get(id));
    }
}
