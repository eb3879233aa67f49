package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.route.EndpointReadOut;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.spi.LatencyStats;
import java.time.Instant;
import java.util.Map;

/**
 * The routing state as JSON, for operators: which strategies are loaded (and which plugins were
 * refused, and why), and per endpoint its circuit, recent traffic, latency and learnt quality.
 * The admin API and the dashboard serve it; nothing in it is a secret.
 */
public final class RoutingReport {
    private RoutingReport() {}

    public static ObjectNode json(Router router) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("time", Instant.ofEpochMilli(router.state().nowMillis()).toString());
        ArrayNode strategies = root.putArray("strategies");
        for (StrategyRegistry.PluginInfo p : router.strategies().plugins()) {
            strategies
                    .addObject()
                    .put("name", p.name())
                    .put("source", p.source())
                    .put("class", p.className())
                    .put("spi_version", p.spiVersion());
        }
        ArrayNode problems = root.putArray("plugin_problems");
        router.strategies().problems().forEach(problems::add);
        ArrayNode endpoints = root.putArray("endpoints");
        for (EndpointReadOut e : router.state().readOut()) {
            ObjectNode o = endpoints.addObject();
            o.put("id", e.candidateId());
            ObjectNode c = o.putObject("circuit");
            c.put("state", e.circuit().state().name().toLowerCase(java.util.Locale.ROOT));
            c.put("requests", e.circuit().requests());
            c.put("failures", e.circuit().failures());
            if (e.circuit().openUntilMillis() > 0) {
                c.put(
                        "open_until",
                        Instant.ofEpochMilli(e.circuit().openUntilMillis()).toString());
            }
            c.put("trips", e.circuit().trips());
            c.put("reason", e.circuit().reason());
            // per provider key (docs/architecture.md §7), counted only: which keys is tenants' business
            c.putObject("keys_held")
                    .put("rate_limited", e.keysHeld(io.brainstorm.proxy.route.CredentialHolds.Kind.RATE_LIMITED))
                    .put("rejected", e.keysHeld(io.brainstorm.proxy.route.CredentialHolds.Kind.REJECTED));
            o.put("requests", e.requests());
            o.put("error_rate", e.errorRate());
            latency(o.putObject("latency_ms"), e.latency());
            latency(o.putObject("ttft_ms"), e.ttft());
            ObjectNode quality = o.putObject("quality");
            for (Map.Entry<String, Posterior> q : e.quality().entrySet()) {
                Posterior p = q.getValue();
                quality.putObject(q.getKey())
                        .put("alpha", p.alpha())
                        .put("beta", p.beta())
                        .put("mean", p.mean())
                        .put("observations", p.observations());
            }
        }
        return root;
    }

    private static void latency(ObjectNode o, LatencyStats s) {
        o.put("samples", s.count());
        if (!s.isEmpty()) {
            o.put("p50", s.p50Micros() / 1000.0)
                    .put("p90", s.p90Micros() / 1000.0)
                    .put("p99", s.p99Micros() / 1000.0);
        }
    }
}
