package io.brainstorm.proxy.strategy.smart;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.AhrensDieterMarsagliaTsangGammaSampler;
import org.apache.commons.rng.sampling.distribution.ChengBetaSampler;
import org.apache.commons.rng.sampling.distribution.ContinuousSampler;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;

/**
 * Thompson sampling with cost and latency penalties: the ranking behind {@code :smart} (over one
 * model's endpoints) and {@code auto} (over every eligible model's), shared so both learn the same
 * way.
 *
 * <p>For each candidate it draws a quality {@code q ~ Beta(α, β)} from the posterior the core keeps
 * for the request's task class, and ranks by
 * <pre>
 *   utility = q − costWeight × costShare − latencyWeight × latency ÷ slowest
 * </pre>
 * highest first. {@code latency} is the p50 of {@link EndpointStats#latencyFor} (time to first
 * token for streams) and {@code slowest} the highest p50 among candidates that have latency data;
 * a candidate without data pays no latency penalty, so it is not held back from being measured.
 * {@code costShare} is the request's expected cost ({@link Candidate#expectedCostNanoUsd}) on the
 * instance's {@link CostScale}. Sampling, rather than ranking by the mean, is what makes an
 * uncertain candidate get tried now and then, in proportion to its chance of being the best.
 *
 * <p><b>Sampling.</b> One Beta draw per candidate per request, as X ÷ (X + Y) with X ~ Gamma(α)
 * and Y ~ Gamma(β). That is an exact Beta draw, like the Cheng sampler behind commons-statistics'
 * {@code BetaDistribution.of(α, β).createSampler(rng)}, at a fraction of the cost. For shapes ≥ 1
 * (the core's posteriors always have them: the prior is Beta(1, 1) and updates only add) each
 * Gamma draw is Marsaglia and Tsang's method written out here, over commons-rng-sampling's
 * ziggurat Gaussian kept per thread, because the library's Gamma sampler must be built anew for
 * every shape and generator and that building cost more than the draw; smaller shapes go to
 * commons-rng-sampling's {@code AhrensDieterMarsagliaTsangGammaSampler}. Measured per Beta draw:
 * about 20 ns here, 40–50 ns through the library's Gamma sampler, 100–130 ns through Cheng's and
 * 170–290 ns through {@code BetaDistribution.of} (figures in {@code benchmarks/RESULTS.md}). The
 * core's {@link RandomGenerator} is the only source of randomness, so a seeded run replays.
 *
 * <p><b>Threading.</b> Immutable; {@link #route} keeps everything in locals and one per-thread
 * {@code Draws}, so any number of event loops may call it at once, each with its own generator.
 * Never blocks.
 */
public final class ThompsonSampling {

    /** How a candidate's expected cost becomes a penalty share. */
    public enum CostScale {
        /**
         * cost ÷ the most expensive candidate's cost, in [0, 1]: right when prices differ by a few
         * times, as between the endpoints of one model.
         */
        RELATIVE_TO_DEAREST,
        /**
         * decades above the cheapest candidate, log10(cost ÷ cheapest), capped at
         * {@value #MAX_DECADES}: right when prices differ by orders of magnitude, as between models,
         * where a share of the dearest would make every model but the dearest look free. The weight
         * then reads as quality points a tenfold price must buy. Costs are floored at 1 nano-USD so
         * a free candidate does not make the others infinitely dear; the cap bounds what they pay.
         */
        DECADES_ABOVE_CHEAPEST;

        /** Decades above the cheapest beyond which the cost penalty stops growing. */
        public static final double MAX_DECADES = 3;

        /**
         * The share of the cost weight a candidate pays.
         *
         * @param cost     its expected cost for the request, nano-USD
         * @param cheapest the cheapest candidate's
         * @param dearest  the dearest candidate's
         */
        public double share(long cost, long cheapest, long dearest) {
            return switch (this) {
                case RELATIVE_TO_DEAREST -> dearest == 0 ? 0 : (double) cost / dearest;
                case DECADES_ABOVE_CHEAPEST ->
                    Math.min(MAX_DECADES, Math.log10((double) Math.max(cost, 1) / Math.max(cheapest, 1)));
            };
        }
    }

    private static final int INDEX_BITS = 16;
    private static final int MAX_CANDIDATES = 1 << INDEX_BITS;
    private static final long INDEX_MASK = MAX_CANDIDATES - 1;

    private final String label;
    private final double costWeight;
    private final double latencyWeight;
    private final CostScale costScale;

    /**
     * @param label         the strategy's name, which starts each decision's reason
     * @param costWeight    quality given up for the whole cost share (≥ 0)
     * @param latencyWeight quality given up for the slowest candidate's latency (≥ 0)
     * @param costScale     how cost becomes a share
     */
    public ThompsonSampling(String label, double costWeight, double latencyWeight, CostScale costScale) {
        if (!(costWeight >= 0)
                || !(latencyWeight >= 0)
                || Double.isInfinite(costWeight)
                || Double.isInfinite(latencyWeight)) {
            throw new IllegalArgumentException(
                    "costWeight: " + costWeight + ", latencyWeight: " + latencyWeight + " (expected: finite and >= 0)");
        }
        if (label == null || costScale == null) {
            throw new IllegalArgumentException(
                    "label: " + label + ", costScale: " + costScale + " (expected: both set)");
        }
        this.label = label;
        this.costWeight = costWeight;
        this.latencyWeight = latencyWeight;
        this.costScale = costScale;
    }

    public double costWeight() {
        return costWeight;
    }

    public double latencyWeight() {
        return latencyWeight;
    }

    public CostScale costScale() {
        return costScale;
    }

    /** All candidates, highest sampled utility first. */
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        int n = candidates.size();
        if (n > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates: " + n + " (expected: at most " + MAX_CANDIDATES + ")");
        }
        boolean stream = request.stream();
        long[] cost = new long[n];
        long cheapest = Long.MAX_VALUE;
        long dearest = 0;
        long slowest = 0;
        for (int i = 0; i < n; i++) {
            Candidate c = candidates.get(i);
            long k = c.expectedCostNanoUsd(request);
            cost[i] = k;
            cheapest = Math.min(cheapest, k);
            dearest = Math.max(dearest, k);
            LatencyStats latency = c.stats().latencyFor(stream);
            if (!latency.isEmpty()) {
                slowest = Math.max(slowest, latency.p50Micros());
            }
        }

        Draws draws = DRAWS.get();
        draws.use(random);
        UniformRandomProvider rng = draws;
        double[] quality = new double[n];
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            EndpointStats stats = candidates.get(i).stats();
            double q = sampleQuality(stats.qualityAlpha(), stats.qualityBeta(), rng);
            quality[i] = q;
            double u = q - costPenalty(cost[i], cheapest, dearest) - latencyPenalty(stats, stream, slowest);
            keys[i] = descending(u) | i;
        }
        Arrays.sort(keys);

        Candidate[] order = new Candidate[n];
        for (int i = 0; i < n; i++) {
            order[i] = candidates.get((int) (keys[i] & INDEX_MASK));
        }
        int first = (int) (keys[0] & INDEX_MASK);
        double costPenalty = costPenalty(cost[first], cheapest, dearest);
        double latencyPenalty = latencyPenalty(order[0].stats(), stream, slowest);
        String reason = label + ": utility " + decimal(quality[first] - costPenalty - latencyPenalty) + " = quality "
                + decimal(quality[first]) + " - cost " + decimal(costPenalty) + " - latency " + decimal(latencyPenalty);
        return RouteDecision.of(Arrays.asList(order), reason);
    }

    /** One draw from Beta(α, β), from the generator's next values. */
    public static double sampleQuality(double alpha, double beta, UniformRandomProvider rng) {
        double x;
        double y;
        if (alpha >= 1 && beta >= 1) {
            Draws draws = rng instanceof Draws d ? d : DRAWS.get().use(rng::nextLong);
            x = draws.gamma(alpha);
            y = draws.gamma(beta);
        } else {
            x = AhrensDieterMarsagliaTsangGammaSampler.of(rng, alpha, 1).sample();
            y = AhrensDieterMarsagliaTsangGammaSampler.of(rng, beta, 1).sample();
        }
        double sum = x + y;
        if (!(sum > 0) || Double.isInfinite(sum)) {
            // both draws underflowed (shapes far below 1) or overflowed: Cheng's algorithm has no such edge
            return ChengBetaSampler.of(rng, alpha, beta).sample();
        }
        return x / sum;
    }

    private static final ThreadLocal<Draws> DRAWS = ThreadLocal.withInitial(Draws::new);

    /**
     * A thread's random source for one decision at a time: the decision's generator behind a
     * ziggurat Gaussian sampler that is built once per thread. Not shared between threads, so it
     * needs no synchronisation; {@link #use} points it at the current decision's generator.
     */
    private static final class Draws implements UniformRandomProvider {
        private final ContinuousSampler gaussian = ZigguratSampler.NormalizedGaussian.of(this);

        @SuppressWarnings("NullAway.Init") // set by use(), the only way to a thread's Draws, before any draw
        private RandomGenerator source;

        Draws use(RandomGenerator generator) {
            source = generator;
            return this;
        }

        @Override
        public long nextLong() {
            return source.nextLong();
        }

        /** Gamma(shape, 1) for shape ≥ 1: Marsaglia and Tsang (2000), "A simple method for generating gamma variables". */
        double gamma(double shape) {
            double d = shape - 1.0 / 3;
            double c = 1 / Math.sqrt(9 * d);
            while (true) {
                double x = gaussian.sample();
                double v = 1 + c * x;
                if (v <= 0) {
                    continue;
                }
                v = v * v * v;
                double u = nextDouble();
                double xx = x * x;
                if (u < 1 - 0.0331 * xx * xx) {
                    return d * v;
                }
                if (Math.log(u) < 0.5 * xx + d * (1 - v + Math.log(v))) {
                    return d * v;
                }
            }
        }
    }

    private double costPenalty(long cost, long cheapest, long dearest) {
        return costWeight == 0 ? 0 : costWeight * costScale.share(cost, cheapest, dearest);
    }

    private double latencyPenalty(EndpointStats stats, boolean stream, long slowest) {
        LatencyStats latency = stats.latencyFor(stream);
        if (latencyWeight == 0 || slowest == 0 || latency.isEmpty()) {
            return 0;
        }
        return latencyWeight * latency.p50Micros() / slowest;
    }

    /**
     * A sort key whose ascending order is {@code u}'s descending order, with the low
     * {@value #INDEX_BITS} bits cleared for the candidate's index: utilities equal to within about
     * 2<sup>-36</sup> of their size keep configured order.
     */
    private static long descending(double u) {
        long bits = Double.doubleToLongBits(-u + 0.0); // + 0.0 turns -0.0 into 0.0
        long ordered = bits ^ ((bits >> 63) & Long.MAX_VALUE); // signed long order = numeric order
        return ordered & ~INDEX_MASK;
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
        return label + "(cost_weight " + costWeight + ", latency_weight " + latencyWeight + ", " + costScale + ")";
    }
}
