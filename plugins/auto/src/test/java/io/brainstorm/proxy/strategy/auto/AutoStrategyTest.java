package io.brainstorm.proxy.strategy.auto;

import static io.brainstorm.proxy.spi.testing.StrategyFixtures.models;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.nanoUsd;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.provider;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.strategy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.testing.StrategyFixtures;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AutoStrategyTest {
    private final RoutingStrategy auto = strategy("auto", Map.of());

    @Test
    void theSameSeedReplaysTheSameDecisions() {
        List<Candidate> configured = List.of(model("a", 3, 3, 0.1), model("b", 4, 3, 1), model("c", 2, 2, 10));
        SplittableRandom first = new SplittableRandom(2026);
        SplittableRandom second = new SplittableRandom(2026);
        Set<List<String>> orders = new HashSet<>();

        for (int i = 0; i < 200; i++) {
            RouteDecision one = auto.route(plain(), configured, first);
            assertEquals(one, auto.route(plain(), configured, second), "decision " + i);
            orders.add(models(one.order()));
        }
        assertTrue(orders.size() > 3, "uncertain posteriors must give varied orders, got " + orders);
    }

    @Test
    void toolRequestsGoOnlyToModelsWithTools() {
        // the model without tools is the best and cheapest: only the filter keeps it out
        Candidate noTools = model("no-tools", 95, 5, 0.1, Set.of("json"), 128_000);
        Candidate tools = model("tools", 60, 40, 1, Set.of("tools"), 128_000);
        List<Candidate> configured = List.of(noTools, tools);
        SplittableRandom random = new SplittableRandom(1);

        for (int i = 0; i < 200; i++) {
            assertEquals(
                    List.of(tools),
                    auto.route(request(true, false, 500, -1), configured, random)
                            .order());
            assertEquals(
                    List.of(noTools),
                    auto.route(request(false, true, 500, -1), configured, random)
                            .order());
        }
        assertEquals(
                "sim/no-tools",
                auto.route(plain(), configured, random).first().model(),
                "without tools or JSON both are eligible and the better, cheaper one wins");
    }

    @Test
    void thePromptAndTheExpectedCompletionMustFitTheContext() {
        Candidate small = model("small-context", 95, 5, 0.1, Set.of("tools", "json"), 32_000);
        Candidate large = model("large-context", 60, 40, 1, Set.of("tools", "json"), 200_000);
        List<Candidate> configured = List.of(small, large);
        SplittableRandom random = new SplittableRandom(1);

        // 31,000 + 256 expected fits 32k; 31,000 + 2,000 max_tokens does not; 40,000 does not either way
        assertEquals(
                "sim/small-context",
                auto.route(request(false, false, 31_000, -1), configured, random)
                        .first()
                        .model());
        assertEquals(
                List.of(large),
                auto.route(request(false, false, 31_000, 2_000), configured, random)
                        .order());
        assertEquals(
                List.of(large),
                auto.route(request(false, false, 40_000, -1), configured, random)
                        .order());
    }

    @Test
    void whenNoCandidateFitsTheCoresListIsKept() {
        List<Candidate> configured =
                List.of(model("a", 95, 5, 0.1, Set.of(), 8_000), model("b", 5, 95, 1, Set.of(), 8_000));

        RouteDecision d = auto.route(request(true, false, 9_000, -1), configured, new SplittableRandom(1));

        assertEquals(Set.copyOf(configured), Set.copyOf(d.order()));
        assertEquals("sim/a", d.first().model());
    }

    @Test
    void whenEveryCandidateFitsTheCoresListIsUsedAsIs() {
        List<Candidate> configured = List.of(model("a", 3, 3, 0.1), model("b", 4, 3, 1));

        assertSame(configured, AutoStrategy.eligible(plain(), configured));
    }

    @Test
    void aTenfoldPriceMustBuyMoreThanTheCostWeightInQuality() {
        // 0.70 at $1 against 0.75 at $10: one decade costs 0.1, so the cheaper wins by 0.05. A share
        // of the dearest ($100) would charge the $10 model only 0.01 and let it win by 0.04.
        List<Candidate> configured = List.of(
                model("cheap", 7_000, 3_000, 1),
                model("tenfold", 7_500, 2_500, 10),
                model("hundredfold", 5_000, 5_000, 100));

        Map<String, Integer> first = firstCounts(auto, plain(), configured, new SplittableRandom(4), 2_000);

        assertTrue(first.getOrDefault("sim/cheap", 0) >= 1_990, first.toString());
    }

    @Test
    void aHundredfoldPriceIsWorthItForAGapAboveTwiceTheWeight() {
        // 100× costs 0.2: 0.95 − 0.2 beats 0.70, 0.85 − 0.2 does not
        Candidate cheap = model("cheap", 7_000, 3_000, 0.1);
        SplittableRandom random = new SplittableRandom(8);

        Map<String, Integer> great =
                firstCounts(auto, plain(), List.of(cheap, model("dear", 9_500, 500, 10)), random, 2_000);
        Map<String, Integer> good =
                firstCounts(auto, plain(), List.of(cheap, model("dear", 8_500, 1_500, 10)), random, 2_000);

        assertTrue(great.getOrDefault("sim/dear", 0) >= 1_990, great.toString());
        assertTrue(good.getOrDefault("sim/cheap", 0) >= 1_990, good.toString());
    }

    @Test
    void aDearModelInTheSetDoesNotChangeHowTheOthersCompare() {
        // on a share-of-the-dearest scale the $1,000 model would make the $10 one look free
        Candidate cheap = model("cheap", 7_000, 3_000, 1);
        Candidate tenfold = model("tenfold", 7_500, 2_500, 10);
        Candidate dearest = model("thousandfold", 1, 99, 1_000);

        Map<String, Integer> without =
                firstCounts(auto, plain(), List.of(cheap, tenfold), new SplittableRandom(6), 2_000);
        Map<String, Integer> with =
                firstCounts(auto, plain(), List.of(cheap, tenfold, dearest), new SplittableRandom(6), 2_000);

        assertTrue(without.getOrDefault("sim/cheap", 0) >= 1_990, without.toString());
        assertTrue(with.getOrDefault("sim/cheap", 0) >= 1_990, with.toString());
    }

    @Test
    void withoutCostWeightTheBetterModelWinsWhateverItCosts() {
        List<Candidate> configured = List.of(model("cheap", 7_000, 3_000, 0.1), model("dear", 7_500, 2_500, 100));

        Map<String, Integer> first = firstCounts(
                strategy("auto", Map.of("cost_weight", "0")), plain(), configured, new SplittableRandom(2), 2_000);

        assertTrue(first.getOrDefault("sim/dear", 0) >= 1_990, first.toString());
    }

    @Test
    void theReasonNamesTheStrategyAndTheCostPaid() {
        RouteRequest r = plain();
        // alone it is the cheapest: no cost penalty on the log scale (a share of the dearest would charge 0.1)
        String reason = auto.route(r, List.of(model("only", 50, 50, 1)), new SplittableRandom(1))
                .reason();

        assertTrue(
                reason.matches("auto: utility 0\\.\\d{3} = quality 0\\.\\d{3} - cost 0\\.000 - latency 0\\.000"),
                reason);
    }

    @Test
    void invalidWeightsAreRefusedByName() {
        assertEquals(SpiVersion.MAJOR, provider("auto").spiVersion());
        assertEquals("routing.strategies.auto.cost_weight: -1 (expected: >= 0)", refused(Map.of("cost_weight", "-1")));
        assertEquals(
                "routing.strategies.auto.latency_weight: Infinity (expected: a number)",
                refused(Map.of("latency_weight", "Infinity")));
        assertEquals(
                "routing.strategies.auto.quantile: unknown setting (expected: cost_weight, latency_weight)",
                refused(Map.of("quantile", "p50")));
    }

    private static String refused(Map<String, String> settings) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> provider("auto").create(StrategyConfig.of("auto", settings)))
                .getMessage();
    }

    /**
     * The one endpoint of model {@code sim/<name>}: quality posterior Beta(α, β), a price in USD per
     * million tokens (input and output alike), capabilities and a context length.
     */
    private static Candidate model(
            String name,
            double alpha,
            double beta,
            double usdPerMillion,
            Set<String> capabilities,
            long contextLength) {
        long price = nanoUsd(usdPerMillion);
        return Candidate.builder()
                .endpoint("sim-east")
                .model("sim/" + name)
                .inputNanoUsdPerMillion(price)
                .outputNanoUsdPerMillion(price)
                .capabilities(capabilities)
                .contextLength(contextLength)
                .maxOutputTokens(4_096)
                .stats(EndpointStats.builder().requests(50).quality(alpha, beta).build())
                .build();
    }

    private static Candidate model(String name, double alpha, double beta, double usdPerMillion) {
        return model(name, alpha, beta, usdPerMillion, Set.of("tools", "json"), 128_000);
    }

    private static RouteRequest request(boolean tools, boolean json, long estimatedInputTokens, long maxTokens) {
        return StrategyFixtures.request("auto")
                .model("auto")
                .tools(tools)
                .json(json)
                .estimatedInputTokens(estimatedInputTokens)
                .maxTokens(maxTokens)
                .build();
    }

    private static RouteRequest plain() {
        return request(false, false, 500, -1);
    }

    /** How often each model goes first over {@code draws} routes of {@code request} with one generator. */
    private static Map<String, Integer> firstCounts(
            RoutingStrategy s, RouteRequest request, List<Candidate> candidates, SplittableRandom random, int draws) {
        return StrategyFixtures.firstCounts(s, request, candidates, random, draws, Candidate::model);
    }
}
