package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.EndpointReadOut;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.TaskClass;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The routing state as JSON, for operators: which strategies are loaded (and which plugins were
 * refused, and why), per endpoint its circuit, recent traffic, latency and learnt quality (the
 * shared belief per task class), and the latest firings of the learning's change detectors. With
 * a tenant, also that tenant's own beliefs and what routing sees for it, and only the firings of
 * the shared beliefs and of that tenant's. The admin API and the dashboard serve it; nothing in it
 * is a secret, and which tenant may be named is the caller's business ({@code StatsResource}).
 */
public final class RoutingReport {
    private RoutingReport() {}

    /** The operator's view: no tenant's beliefs, every tenant's firings. */
    public static ObjectNode json(Router router) {
        return json(router, null);
    }

    /**
     * @param tenant the tenant whose view is added and whose firings are shown beside the shared
     *               beliefs'; null: no tenant's view, and every tenant's firings
     */
    public static ObjectNode json(Router router, @Nullable String tenant) {
        Learning learning = router.state().learning();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("time", Instant.ofEpochMilli(router.state().nowMillis()).toString());
        root.put("tenant", tenant);
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
        Map<String, Map<String, Belief>> tenantBeliefs =
                tenant == null ? Map.of() : learning.tenants().getOrDefault(tenant, Map.of());
        ArrayNode endpoints = root.putArray("endpoints");
        for (EndpointReadOut e : router.state().readOut()) {
            ObjectNode o = endpoints.addObject();
            o.put("id", e.candidateId());
            ObjectNode c = o.putObject("circuit");
            c.put("state", e.circuit().state().name().toLowerCase(Locale.ROOT));
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
            e.quality().forEach((k, b) -> belief(quality.putObject(k), b));
            if (tenant != null) {
                tenantView(
                        o.putObject("tenant_quality"),
                        learning,
                        tenant,
                        e,
                        tenantBeliefs.getOrDefault(e.candidateId(), Map.of()));
            }
        }
        ArrayNode events = root.putArray("learning_events");
        List<Learning.Event> latest = learning.events();
        for (int i = latest.size() - 1; i >= 0; i--) {
            Learning.Event v = latest.get(i);
            if (tenant == null || v.tenant() == null || tenant.equals(v.tenant())) {
                event(events.addObject(), v);
            }
        }
        return root;
    }

    /** A belief: its posterior, and what its change detector did. */
    private static ObjectNode belief(ObjectNode o, Belief b) {
        return o.put("alpha", b.alpha())
                .put("beta", b.beta())
                .put("mean", b.mean())
                .put("observations", b.observations())
                .put("dropped", b.dropped())
                .put("resets", b.resets())
                .put(
                        "last_reset_at",
                        b.lastResetMillis() == 0
                                ? null
                                : Instant.ofEpochMilli(b.lastResetMillis()).toString());
    }

    /**
     * Per task class where the shared belief or the tenant's has observations: the tenant's own
     * belief and what routing sees for it (its own evidence over the scaled-down shared one).
     */
    private static void tenantView(
            ObjectNode out, Learning learning, String tenant, EndpointReadOut e, Map<String, Belief> own) {
        String id = e.candidateId();
        for (TaskClass c : TaskClass.all()) {
            Belief mine = own.get(c.key());
            Belief shared = e.quality().get(c.key());
            if ((mine == null || mine.observations() == 0) && (shared == null || shared.observations() == 0)) {
                continue;
            }
            ObjectNode o = out.putObject(c.key());
            belief(o.putObject("own"), mine == null ? Belief.PRIOR : mine);
            Posterior seen = learning.posterior(tenant, id, c);
            o.putObject("combined")
                    .put("alpha", seen.alpha())
                    .put("beta", seen.beta())
                    .put("mean", seen.mean());
        }
    }

    private static void event(ObjectNode o, Learning.Event v) {
        Belief.Reset r = v.reset();
        o.put("candidate", v.candidateId())
                .put("scope", v.tenant() == null ? "shared" : "tenant")
                .put("tenant", v.tenant())
                .put("class", v.taskClass())
                .put("direction", r.direction().name().toLowerCase(Locale.ROOT))
                .put("mean_before", r.meanBefore())
                .put("mean_after", r.meanAfter())
                .put("answers", r.evidence())
                .put("at", Instant.ofEpochMilli(v.atMillis()).toString());
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
