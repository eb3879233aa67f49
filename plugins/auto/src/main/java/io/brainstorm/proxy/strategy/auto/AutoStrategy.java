package io.brainstorm.proxy.strategy.auto;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.strategy.smart.ThompsonSampling;
import io.brainstorm.proxy.strategy.smart.ThompsonSampling.CostScale;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code auto}: picks the model and the endpoint. The candidates are the eligible endpoints of
 * every model; they are ranked together by the Thompson sampling of {@code :smart}
 * ({@link ThompsonSampling}) on the quality the core has learnt for the request's task class, so
 * a model that does well on tool calls but badly on long prompts is picked for the one and not
 * the other.
 *
 * <p><b>Cost across models.</b> Model prices differ by orders of magnitude, so the cost penalty is
 * {@link CostScale#DECADES_ABOVE_CHEAPEST}: {@code cost_weight} × log10(cost ÷ cheapest), capped at
 * three decades. A share of the dearest candidate's cost, as {@code :smart} uses between endpoints
 * of one model, would charge a model at 1/100 of the dearest's price 1 % of the weight and one at
 * 1/10 10 %: every model but the dearest would look free, and the router would pick the best of
 * them whatever it cost. On the log scale each tenfold step in price costs the same
 * {@code cost_weight} of quality, whatever the other candidates cost (so adding a very dear model
 * changes nothing between the others).
 *
 * <p><b>Eligibility.</b> The core filters candidates before routing; this strategy checks again,
 * since picking a model that cannot serve the request is the costliest mistake it could make:
 * tools and JSON requests need models with those capabilities, and the prompt estimate plus the
 * expected completion must fit the context. If that leaves nothing it routes over the core's list
 * unchanged, trusting the core over its own estimate. Candidates it drops are not tried.
 *
 * <p><b>Threading.</b> Immutable; {@link #route} keeps everything in locals, so any number of event
 * loops may call it at once. Never blocks.
 */
public final class AutoStrategy implements RoutingStrategy {
    private final ThompsonSampling sampling;

    /**
     * @param costWeight    quality given up per tenfold price over the cheapest candidate (≥ 0)
     * @param latencyWeight quality given up for the slowest candidate's latency (≥ 0)
     */
    public AutoStrategy(double costWeight, double latencyWeight) {
        this.sampling = new ThompsonSampling("auto", costWeight, latencyWeight, CostScale.DECADES_ABOVE_CHEAPEST);
    }

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        return sampling.route(request, eligible(request, candidates), random);
    }

    /** The candidates that can serve the request; all of them when none can. */
    static List<Candidate> eligible(RouteRequest request, List<Candidate> candidates) {
        List<Candidate> fit = null; // stays null, allocating nothing, while every candidate fits
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            boolean fits = fits(request, c);
            if (!fits && fit == null) {
                fit = new ArrayList<>(candidates.subList(0, i));
            } else if (fits && fit != null) {
                fit.add(c);
            }
        }
        return fit == null || fit.isEmpty() ? candidates : fit;
    }

    private static boolean fits(RouteRequest request, Candidate c) {
        if (request.tools() && !c.supports("tools")) {
            return false;
        }
        if (request.json() && !c.supports("json")) {
            return false;
        }
        return request.estimatedInputTokens() + c.expectedOutputTokens(request) <= c.contextLength();
    }

    @Override
    public String toString() {
        return sampling.toString();
    }
}
