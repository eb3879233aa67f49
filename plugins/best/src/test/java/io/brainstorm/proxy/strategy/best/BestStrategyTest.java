package io.brainstorm.proxy.strategy.best;

import static io.brainstorm.proxy.spi.testing.StrategyFixtures.candidate;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.endpoints;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.nanoUsd;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.provider;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.quality;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.testing.StrategyFixtures;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BestStrategyTest {
    private final RoutingStrategy best = provider("best").create(StrategyConfig.empty("best"));

    @Test
    void highestPosteriorMeanFirstThenDescending() {
        List<Candidate> configured = List.of(learnt("fair", 9, 3), learnt("poor", 2, 8), learnt("great", 18, 2));

        RouteDecision d = best.route(request(100, -1), configured, new SplittableRandom(1));

        assertEquals(List.of("great", "fair", "poor"), endpoints(d.order()));
        assertEquals("best: quality 0.900 (Beta 18.000, 2.000)", d.reason());
    }

    @Test
    void theMeanDecidesNotTheEvidenceOrTheSuccesses() {
        // 40 good of 100 is worse than 3 good of 4, though it has more successes and more evidence
        List<Candidate> configured = List.of(learnt("many", 41, 61), learnt("few", 4, 2));

        assertEquals(
                "few",
                best.route(request(100, -1), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
    }

    @Test
    void anUnseenEndpointRanksAtTheUniformPriorsMean() {
        List<Candidate> configured = List.of(
                learnt("bad", 2, 20),
                candidate("unseen")
                        .inputNanoUsdPerMillion(1)
                        .outputNanoUsdPerMillion(1)
                        .stats(EndpointStats.UNSEEN)
                        .build(),
                learnt("good", 20, 2));

        assertEquals(
                List.of("good", "unseen", "bad"),
                endpoints(best.route(request(100, -1), configured, new SplittableRandom(1))
                        .order()));
    }

    @Test
    void equalQualityGoesToTheCheaperForThisRequest() {
        // both mean 0.8; dear-output costs more for long answers, dear-input for long prompts
        Candidate dearOutput = learnt("dear-output", 8, 2, 1.00, 10.00);
        Candidate dearInput = learnt("dear-input", 4, 1, 5.00, 2.00);
        List<Candidate> configured = List.of(dearOutput, dearInput);

        // 1,000 + 256 × 10 = 3,560 against 5,000 + 512 = 5,512
        assertEquals(
                List.of("dear-output", "dear-input"),
                endpoints(best.route(request(1_000, -1), configured, new SplittableRandom(1))
                        .order()));
        // 1,000 + 20,000 against 5,000 + 4,000
        assertEquals(
                List.of("dear-input", "dear-output"),
                endpoints(best.route(request(1_000, 2_000), configured, new SplittableRandom(1))
                        .order()));
    }

    @Test
    void cheaperDoesNotBeatBetter() {
        List<Candidate> configured =
                List.of(learnt("free-but-worse", 7, 3, 0, 0), learnt("dear-but-better", 8, 2, 50, 50));

        assertEquals(
                "dear-but-better",
                best.route(request(1_000, -1), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
    }

    @Test
    void equalQualityAndCostKeepConfiguredOrder() {
        List<Candidate> configured =
                List.of(learnt("c", 3, 1), learnt("top", 9, 1), learnt("a", 3, 1), learnt("b", 6, 2));

        assertEquals(
                List.of("top", "c", "a", "b"),
                endpoints(best.route(request(100, -1), configured, new SplittableRandom(1))
                        .order()));
    }

    @Test
    void decimalsAreRoundedToThree() {
        assertEquals("0.900", BestStrategy.decimal(0.9));
        assertEquals("0.007", BestStrategy.decimal(0.0071));
        assertEquals("12.346", BestStrategy.decimal(12.3456));
        assertEquals("-0.050", BestStrategy.decimal(-0.05));
    }

    @Test
    void providerRefusesSettings() {
        assertEquals(SpiVersion.MAJOR, provider("best").spiVersion());
        assertEquals(
                "routing.strategies.best: unknown settings [tie] (expected: none, :best has no settings)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> provider("best").create(StrategyConfig.of("best", Map.of("tie", "cost"))))
                        .getMessage());
    }

    /** An endpoint of {@code sim/alpha} with a quality posterior Beta(α, β), priced in USD per million tokens. */
    private static Candidate learnt(
            String endpoint, double alpha, double beta, double inputUsdPerMillion, double outputUsdPerMillion) {
        return candidate(endpoint)
                .inputNanoUsdPerMillion(nanoUsd(inputUsdPerMillion))
                .outputNanoUsdPerMillion(nanoUsd(outputUsdPerMillion))
                .stats(quality(10, alpha, beta))
                .build();
    }

    private static Candidate learnt(String endpoint, double alpha, double beta) {
        return learnt(endpoint, alpha, beta, 1, 1);
    }

    private static RouteRequest request(long estimatedInputTokens, long maxTokens) {
        return StrategyFixtures.request("best")
                .estimatedInputTokens(estimatedInputTokens)
                .maxTokens(maxTokens)
                .build();
    }
}
