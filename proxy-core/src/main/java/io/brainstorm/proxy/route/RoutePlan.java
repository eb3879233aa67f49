package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a request goes: the first endpoint is tried first, the rest are the failover order
 * (which may cross models: {@code auto}, or OpenRouter's {@code models} fallback list).
 *
 * @param strategy   what decided ({@code direct} for a plain model name), shown in {@code X-BR-Strategy}
 * @param decider    the strategy that decided, told how each attempt went; null for {@code direct}
 * @param request    the request as the strategy saw it (task class, tokens, …)
 * @param endpoints  endpoints in the order to try, never empty
 * @param efficiency {@code X-BR-Efficiency}: quality posterior mean of the pick (0.5 with no data) ×
 *                   cheapest eligible estimated cost ÷ the pick's estimated cost
 * @param reason     the strategy's explanation, for logs
 * @param access     what the calling key may reach: the provider key each endpoint is sent
 */
public record RoutePlan(
        String strategy,
        @Nullable RoutingStrategy decider,
        RouteRequest request,
        List<Endpoint> endpoints,
        double efficiency,
        String reason,
        Access access) {
    public RoutePlan {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints: [] (expected: at least one endpoint)");
        }
    }

    /** The endpoint tried first. */
    public Endpoint first() {
        return endpoints.get(0);
    }
}
