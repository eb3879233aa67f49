package io.brainstorm.proxy.strategy.smart;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code :smart}: Thompson sampling over one model's endpoints ({@link ThompsonSampling}): sample
 * each endpoint's quality posterior, subtract a cost penalty (share of the dearest endpoint's
 * expected cost for this request) and a latency penalty (share of the slowest p50), try the
 * highest utility first and the rest in descending utility as failover. Learns from the α/β the
 * core updates after each answer; keeps no state of its own.
 *
 * <p><b>Threading.</b> Immutable; see {@link ThompsonSampling}. Any number of event loops may call
 * {@link #route} at once. Never blocks.
 */
public final class SmartStrategy implements RoutingStrategy {
    private final ThompsonSampling sampling;

    /**
     * @param costWeight    quality given up for the dearest endpoint's cost (≥ 0)
     * @param latencyWeight quality given up for the slowest endpoint's latency (≥ 0)
     */
    public SmartStrategy(double costWeight, double latencyWeight) {
        this.sampling = new ThompsonSampling(
                "smart", costWeight, latencyWeight, ThompsonSampling.CostScale.RELATIVE_TO_DEAREST);
    }

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        return sampling.route(request, candidates, random);
    }

    @Override
    public String toString() {
        return sampling.toString();
    }
}
