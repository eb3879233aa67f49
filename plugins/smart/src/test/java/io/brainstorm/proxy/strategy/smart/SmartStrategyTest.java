package io.brainstorm.proxy.strategy.smart;

import static io.brainstorm.proxy.spi.testing.StrategyFixtures.candidate;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.endpoints;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.nanoUsd;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.provider;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.strategy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.testing.StrategyFixtures;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.junit.jupiter.api.Test;

class SmartStrategyTest {
    private final RoutingStrategy smart = strategy("smart", Map.of());

    @Test
    void theSameSeedReplaysTheSameDecisions() {
        List<Candidate> configured = List.of(
                endpoint("a", 3, 3, 1, 0),
                endpoint("b", 4, 3, 1.2, 200),
                endpoint("c", 2, 2, 0.8, 300),
                endpoint("d", 1, 1, 1, 0));
        SplittableRandom first = new SplittableRandom(2026);
        SplittableRandom second = new SplittableRandom(2026);
        Set<List<String>> orders = new HashSet<>();

        for (int i = 0; i < 200; i++) {
            RouteDecision one = smart.route(request(), configured, first);
            RouteDecision two = smart.route(request(), configured, second);
            assertEquals(one, two, "decision " + i);
            orders.add(endpoints(one.order()));
        }
        assertTrue(orders.size() > 5, "uncertain posteriors must give varied orders, got " + orders);
    }

    @Test
    void everyCandidateAppearsOnceInTheFailoverOrder() {
        List<Candidate> configured =
                List.of(endpoint("a", 3, 3, 1, 0), endpoint("b", 4, 3, 1.2, 200), endpoint("c", 2, 2, 0.8, 300));
        SplittableRandom random = new SplittableRandom(5);

        for (int i = 0; i < 100; i++) {
            List<String> order =
                    endpoints(smart.route(request(), configured, random).order());
            assertEquals(Set.of("a", "b", "c"), Set.copyOf(order));
            assertEquals(3, order.size());
        }
    }

    @Test
    void prefersAClearlyBetterEndpoint() {
        // 0.9 against 0.6, both well known, same price and latency: the better one nearly always
        List<Candidate> configured = List.of(endpoint("worse", 60, 40, 1, 100), endpoint("better", 90, 10, 1, 100));

        Map<String, Integer> first = firstCounts(smart, configured, new SplittableRandom(42), 10_000);

        assertTrue(first.getOrDefault("better", 0) >= 9_990, first.toString());
    }

    @Test
    void explorationFollowsTheChanceOfBeingBest() {
        // little known and alike: each is the best half the time; a mean-ranker would always pick one
        List<Candidate> configured = List.of(endpoint("a", 2, 2, 1, 0), endpoint("b", 2, 2, 1, 0));

        Map<String, Integer> first = firstCounts(smart, configured, new SplittableRandom(7), 10_000);

        int a = first.getOrDefault("a", 0);
        assertTrue(a > 4_700 && a < 5_300, first.toString());
    }

    @Test
    void anUncertainEndpointIsTriedNowAndThenButNotOften() {
        // P(Beta(3, 2) > Beta(80, 20)) is about 0.16
        List<Candidate> configured = List.of(endpoint("known", 80, 20, 1, 0), endpoint("new", 3, 2, 1, 0));

        Map<String, Integer> first = firstCounts(smart, configured, new SplittableRandom(11), 10_000);

        int tried = first.getOrDefault("new", 0);
        assertTrue(tried > 1_200 && tried < 2_100, first.toString());
    }

    @Test
    void atEqualQualityTheCheaperWins() {
        // both 0.5 known to ±0.01; half the price saves 0.2 × 0.5 = 0.1 utility
        List<Candidate> configured =
                List.of(endpoint("dear", 1_000, 1_000, 2, 0), endpoint("cheap", 1_000, 1_000, 1, 0));

        assertTrue(
                firstCounts(smart, configured, new SplittableRandom(3), 2_000).getOrDefault("cheap", 0) >= 1_990);
        int cheapWithoutWeight = firstCounts(
                        strategy("smart", Map.of("cost_weight", "0")), configured, new SplittableRandom(3), 2_000)
                .getOrDefault("cheap", 0);
        assertTrue(cheapWithoutWeight > 900 && cheapWithoutWeight < 1_100, "cheap first " + cheapWithoutWeight);
    }

    @Test
    void costDoesNotOutweighAClearQualityGap() {
        // the penalty is at most cost_weight = 0.2; 0.9 against 0.5 at ten times the price still wins
        List<Candidate> configured =
                List.of(endpoint("cheap-poor", 500, 500, 1, 0), endpoint("dear-good", 900, 100, 10, 0));

        assertTrue(
                firstCounts(smart, configured, new SplittableRandom(3), 2_000).getOrDefault("dear-good", 0) >= 1_990);
    }

    @Test
    void atEqualQualityAndPriceTheQuickerWins() {
        // 100 ms against 200 ms: 0.1 × (1 − 0.5) = 0.05 utility, five standard deviations of the difference
        List<Candidate> configured =
                List.of(endpoint("slow", 2_000, 2_000, 1, 200), endpoint("quick", 2_000, 2_000, 1, 100));

        assertTrue(
                firstCounts(smart, configured, new SplittableRandom(9), 2_000).getOrDefault("quick", 0) >= 1_990);
    }

    @Test
    void anUnmeasuredEndpointPaysNoLatencyPenalty() {
        // the measured one is the slowest with data, so it pays the full 0.1; the unmeasured one nothing
        List<Candidate> configured =
                List.of(endpoint("measured", 2_000, 2_000, 1, 100), endpoint("unmeasured", 2_000, 2_000, 1, 0));

        assertTrue(
                firstCounts(smart, configured, new SplittableRandom(9), 2_000).getOrDefault("unmeasured", 0) >= 1_990);
    }

    @Test
    void streamsAreJudgedByTimeToFirstToken() {
        // slow-start answers whole requests quickly but streams late
        Candidate slowStart =
                withLatency("slow-start", LatencyStats.of(50, 100_000, 0, 0), LatencyStats.of(50, 90_000, 0, 0));
        Candidate quickStart =
                withLatency("quick-start", LatencyStats.of(50, 200_000, 0, 0), LatencyStats.of(50, 10_000, 0, 0));
        List<Candidate> configured = List.of(slowStart, quickStart);
        SplittableRandom random = new SplittableRandom(1);
        int quickStartForStreams = 0;
        int quickStartForWhole = 0;
        for (int i = 0; i < 1_000; i++) {
            RouteRequest streamed = RouteRequest.builder()
                    .requestId("r")
                    .tenant("t")
                    .model("sim/alpha")
                    .variant("smart")
                    .taskClass(request().taskClass())
                    .stream(true)
                    .estimatedInputTokens(500)
                    .maxTokens(500)
                    .build();
            quickStartForStreams += smart.route(streamed, configured, random).first() == quickStart ? 1 : 0;
            quickStartForWhole += smart.route(request(), configured, random).first() == quickStart ? 1 : 0;
        }
        assertTrue(quickStartForStreams >= 990, "streams: " + quickStartForStreams);
        assertTrue(quickStartForWhole <= 10, "whole answers: " + quickStartForWhole);
    }

    @Test
    void theReasonAddsUp() {
        RouteDecision d = smart.route(request(), List.of(endpoint("only", 5, 5, 1, 100)), new SplittableRandom(1));

        // alone, it is both the dearest (cost share 1) and the slowest (latency share 1)
        String reason = d.reason();
        assertTrue(
                reason.matches("smart: utility -?\\d\\.\\d{3} = quality 0\\.\\d{3} - cost 0\\.200 - latency 0\\.100"),
                reason);
        double utility = Double.parseDouble(reason.substring("smart: utility ".length(), reason.indexOf(" =")));
        double quality =
                Double.parseDouble(reason.substring(reason.indexOf("quality ") + 8, reason.indexOf(" - cost")));
        assertEquals(quality - 0.3, utility, 0.0015);
    }

    @Test
    void samplesFollowTheBetaDistribution() {
        // Kolmogorov–Smirnov against commons-statistics' Beta CDF; 1.95 / √n is the 0.1 % critical value
        UniformRandomProvider rng = new SplittableRandom(99)::nextLong;
        int n = 20_000;
        double[][] shapes = {{1, 1}, {0.5, 0.7}, {3, 7}, {150, 50}, {1.2, 90}, {0.05, 2}};
        for (double[] ab : shapes) {
            BetaDistribution beta = BetaDistribution.of(ab[0], ab[1]);
            double[] draws = new double[n];
            for (int i = 0; i < n; i++) {
                draws[i] = ThompsonSampling.sampleQuality(ab[0], ab[1], rng);
            }
            Arrays.sort(draws);
            double d = 0;
            for (int i = 0; i < n; i++) {
                double cdf = beta.cumulativeProbability(draws[i]);
                d = Math.max(d, Math.max((i + 1.0) / n - cdf, cdf - (double) i / n));
            }
            assertTrue(d < 1.95 / Math.sqrt(n), "Beta(" + ab[0] + ", " + ab[1] + "): KS distance " + d);
            assertTrue(draws[0] >= 0 && draws[n - 1] <= 1, "Beta(" + ab[0] + ", " + ab[1] + ") out of [0, 1]");
        }
    }

    @Test
    void samplesHaveTheBetaMeanAndVariance() {
        UniformRandomProvider rng = new SplittableRandom(1)::nextLong;
        int n = 50_000;
        double sum = 0;
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            double q = ThompsonSampling.sampleQuality(3, 7, rng);
            assertTrue(q >= 0 && q <= 1, "draw " + q);
            sum += q;
            sumSquares += q * q;
        }
        double mean = sum / n;
        double variance = sumSquares / n - mean * mean;
        assertEquals(0.3, mean, 0.003);
        assertEquals(3.0 * 7 / (100 * 11), variance, 0.0008);
    }

    @Test
    void costSharesOnBothScales() {
        ThompsonSampling.CostScale linear = ThompsonSampling.CostScale.RELATIVE_TO_DEAREST;
        assertEquals(0.5, linear.share(50, 10, 100));
        assertEquals(1.0, linear.share(100, 10, 100));
        assertEquals(0.0, linear.share(0, 0, 0), "all free");

        ThompsonSampling.CostScale log = ThompsonSampling.CostScale.DECADES_ABOVE_CHEAPEST;
        assertEquals(0.0, log.share(10, 10, 1_000));
        assertEquals(1.0, log.share(100, 10, 1_000), 1e-12);
        assertEquals(2.0, log.share(1_000, 10, 1_000), 1e-12);
        assertEquals(3.0, log.share(10_000_000, 10, 10_000_000), "capped at three decades");
        assertEquals(2.0, log.share(100, 0, 100), 1e-12, "a free cheapest counts as 1 nano-USD");
        assertEquals(0.0, log.share(0, 0, 100), "free");
    }

    @Test
    void invalidWeightsAreRefusedByName() {
        assertEquals(SpiVersion.MAJOR, provider("smart").spiVersion());
        assertEquals(
                "routing.strategies.smart.cost_weight: -0.5 (expected: >= 0)", refused(Map.of("cost_weight", "-0.5")));
        assertEquals(
                "routing.strategies.smart.latency_weight: NaN (expected: a number)",
                refused(Map.of("latency_weight", "NaN")));
        assertEquals(
                "routing.strategies.smart.cost_weight: cheap (expected: a number)",
                refused(Map.of("cost_weight", "cheap")));
        assertEquals(
                "routing.strategies.smart.cost: unknown setting (expected: cost_weight, latency_weight)",
                refused(Map.of("cost", "0.2")));
        assertNotEquals(null, strategy("smart", Map.of("cost_weight", "0", "latency_weight", "1.5")));
    }

    private static Candidate withLatency(String endpoint, LatencyStats latency, LatencyStats ttft) {
        EndpointStats stats = EndpointStats.builder()
                .requests(100)
                .latency(latency)
                .ttft(ttft)
                .quality(2_000, 2_000)
                .build();
        return candidate(endpoint)
                .inputNanoUsdPerMillion(1_000)
                .outputNanoUsdPerMillion(1_000)
                .stats(stats)
                .build();
    }

    private static String refused(Map<String, String> settings) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> provider("smart").create(StrategyConfig.of("smart", settings)))
                .getMessage();
    }

    /**
     * An endpoint of {@code sim/alpha} with quality posterior Beta(α, β), a price in USD per
     * million tokens (input and output alike) and a median latency in ms (0: not measured).
     */
    private static Candidate endpoint(
            String endpoint, double alpha, double beta, double usdPerMillion, long p50Millis) {
        LatencyStats latency = p50Millis == 0
                ? LatencyStats.EMPTY
                : LatencyStats.of(50, p50Millis * 1000, p50Millis * 1200, p50Millis * 1500);
        long price = nanoUsd(usdPerMillion);
        return candidate(endpoint)
                .inputNanoUsdPerMillion(price)
                .outputNanoUsdPerMillion(price)
                .stats(EndpointStats.builder()
                        .requests(50)
                        .latency(latency)
                        .quality(alpha, beta)
                        .build())
                .build();
    }

    private static RouteRequest request() {
        return StrategyFixtures.request("smart")
                .estimatedInputTokens(500)
                .maxTokens(500)
                .build();
    }

    /** How often each endpoint goes first over {@code draws} routes with one generator. */
    private static Map<String, Integer> firstCounts(
            RoutingStrategy s, List<Candidate> candidates, SplittableRandom random, int draws) {
        return StrategyFixtures.firstCounts(s, request(), candidates, random, draws, Candidate::endpoint);
    }
}
