package io.brainstorm.proxy.route;

import io.brainstorm.proxy.config.ModelSpec;

import java.util.List;

/**
 * Where a request goes: the first candidate is tried first, the rest are the failover order.
 *
 * @param model      the model that answers
 * @param strategy   what decided ({@code direct} for a plain model name), shown in {@code X-BR-Strategy}
 * @param candidates endpoints in the order to try, never empty
 * @param efficiency {@code X-BR-Efficiency}: quality posterior mean of the pick (0.5 with no data) ×
 *                   cheapest eligible estimated cost ÷ the pick's estimated cost
 */
public record RouteDecision(ModelSpec model, String strategy, List<Endpoint> candidates, double efficiency) {
    public RouteDecision {
        candidates = List.copyOf(candidates);
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("candidates: [] (expected: at least one endpoint)");
        }
    }
}
