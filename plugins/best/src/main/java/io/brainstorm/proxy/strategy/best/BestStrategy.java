package io.brainstorm.proxy.strategy.best;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code :best}: the endpoints in descending order of learnt answer quality, the posterior mean
 * α ÷ (α + β) the core passes for the request's task class ({@link EndpointStats#qualityMean()}).
 * Equal means go to the cheaper expected cost for this request, then to configured order. An
 * endpoint nothing is known about has mean 0.5, so it ranks above one that is known to do worse
 * than that and below one known to do better; {@code :best} never explores on purpose (that is
 * {@code :smart}'s job).
 *
 * <p><b>Threading.</b> Immutable; {@link #route} keeps everything in locals (three arrays of the
 * candidates' size), so any number of event loops may call it at once. Never blocks.
 */
public final class BestStrategy implements RoutingStrategy {

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        int n = candidates.size();
        double[] mean = new double[n];
        long[] cost = new long[n];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            Candidate c = candidates.get(i);
            mean[i] = c.stats().qualityMean();
            cost[i] = c.expectedCostNanoUsd(request);
            order[i] = i;
        }
        // insertion sort: stable, no allocation, and fast for the few dozen candidates a model has
        for (int i = 1; i < n; i++) {
            int x = order[i];
            int j = i - 1;
            while (j >= 0 && before(x, order[j], mean, cost)) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = x;
        }
        Candidate[] sorted = new Candidate[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = candidates.get(order[i]);
        }
        EndpointStats s = sorted[0].stats();
        return RouteDecision.of(
                Arrays.asList(sorted),
                "best: quality " + decimal(mean[order[0]]) + " (Beta " + decimal(s.qualityAlpha()) + ", "
                        + decimal(s.qualityBeta()) + ")");
    }

    /** Whether candidate {@code a} strictly precedes {@code b}: higher mean, then lower cost. */
    private static boolean before(int a, int b, double[] mean, long[] cost) {
        if (mean[a] != mean[b]) {
            return mean[a] > mean[b];
        }
        return cost[a] < cost[b];
    }

    /** Three decimals, ASCII, for reasons: {@code 0.912}. */
    static String decimal(double x) {
        long thousandths = Math.round(x * 1000);
        String sign = thousandths < 0 ? "-" : "";
        thousandths = Math.abs(thousandths);
        long fraction = thousandths % 1000;
        return sign + thousandths / 1000 + (fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".") + fraction;
    }

    @Override
    public String toString() {
        return "best";
    }
}
