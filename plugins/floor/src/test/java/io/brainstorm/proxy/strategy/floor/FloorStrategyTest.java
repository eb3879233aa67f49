package io.brainstorm.proxy.strategy.floor;

import static io.brainstorm.proxy.spi.testing.StrategyFixtures.candidate;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.endpoints;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.nanoUsd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.testing.StrategyFixtures;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FloorStrategyTest {
    /** Cheap prompts, dear completions. */
    private static final Candidate CHEAP_INPUT = priced("cheap-input", 1.00, 10.00);
    /** Dear prompts, cheap completions. */
    private static final Candidate CHEAP_OUTPUT = priced("cheap-output", 5.00, 2.00);

    private final RoutingStrategy floor = strategy(StrategyConfig.empty("floor"));

    @Test
    void picksTheCheapestForTheDefaultOutputEstimate() {
        // 1,000 prompt tokens + 256 expected completion tokens:
        // cheap-input 1,000 × $1 + 256 × $10 = $3,560 per million requests; cheap-output 5,000 + 512 = 5,512
        RouteDecision d = floor.route(request(1_000, -1), List.of(CHEAP_OUTPUT, CHEAP_INPUT), new SplittableRandom(1));

        assertEquals(List.of("cheap-input", "cheap-output"), endpoints(d.order()));
        assertEquals("cheapest: $0.00356 expected", d.reason());
    }

    @Test
    void maxTokensChangesTheAnswerWhenInputAndOutputPricesDiffer() {
        // 2,000 completion tokens: cheap-input 1,000 + 20,000 = 21,000; cheap-output 5,000 + 4,000 = 9,000
        RouteDecision d =
                floor.route(request(1_000, 2_000), List.of(CHEAP_INPUT, CHEAP_OUTPUT), new SplittableRandom(1));

        assertEquals(List.of("cheap-output", "cheap-input"), endpoints(d.order()));
        assertEquals("cheapest: $0.009 expected", d.reason());
    }

    @Test
    void aLongPromptFavoursTheCheaperInputPrice() {
        // 20,000 prompt tokens, 100 completion tokens: 20,000 + 1,000 against 100,000 + 200
        RouteDecision d =
                floor.route(request(20_000, 100), List.of(CHEAP_OUTPUT, CHEAP_INPUT), new SplittableRandom(1));

        assertEquals("cheap-input", d.first().endpoint());
    }

    @Test
    void failoverOrderIsAscendingCostAndEqualCostsKeepConfiguredOrder() {
        List<Candidate> configured = List.of(
                priced("b", 3, 3),
                priced("tie-1", 2, 2),
                priced("d", 9, 9),
                priced("tie-2", 2, 2),
                priced("a", 1, 1),
                priced("tie-3", 2, 2));

        RouteDecision d = floor.route(request(500, 500), configured, new SplittableRandom(1));

        assertEquals(List.of("a", "tie-1", "tie-2", "tie-3", "b", "d"), endpoints(d.order()));
    }

    @Test
    void oneCandidateIsRoutedToItself() {
        RouteDecision d = floor.route(request(10, -1), List.of(CHEAP_INPUT), new SplittableRandom(1));

        assertEquals(List.of(CHEAP_INPUT), d.order());
    }

    @Test
    void freeEndpointsComeFirst() {
        RouteDecision d =
                floor.route(request(10, -1), List.of(CHEAP_INPUT, priced("free", 0, 0)), new SplittableRandom(1));

        assertEquals(List.of("free", "cheap-input"), endpoints(d.order()));
        assertEquals("cheapest: $0 expected", d.reason());
    }

    @Test
    void usdIsExactWithoutTrailingZeros() {
        assertEquals("$0", FloorStrategy.usd(0));
        assertEquals("$0.000000001", FloorStrategy.usd(1));
        assertEquals("$0.00041", FloorStrategy.usd(410_000));
        assertEquals("$2.5", FloorStrategy.usd(2_500_000_000L));
        assertEquals("$12.000000007", FloorStrategy.usd(12_000_000_007L));
    }

    @Test
    void providerIsFoundByNameAndRefusesSettings() {
        RoutingStrategyProvider p = provider();
        assertEquals(SpiVersion.MAJOR, p.spiVersion());
        assertTrue(p.create(StrategyConfig.empty("floor")) instanceof FloorStrategy);

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> p.create(StrategyConfig.of("floor", Map.of("cost_weight", "0.2"))));
        assertEquals(
                "routing.strategies.floor: unknown settings [cost_weight] (expected: none, :floor has no settings)",
                e.getMessage());
    }

    private static RoutingStrategy strategy(StrategyConfig config) {
        return provider().create(config);
    }

    private static RoutingStrategyProvider provider() {
        return StrategyFixtures.provider("floor");
    }

    /** An endpoint of {@code sim/alpha} priced in USD per million tokens. */
    private static Candidate priced(String endpoint, double inputUsdPerMillion, double outputUsdPerMillion) {
        return candidate(endpoint)
                .inputNanoUsdPerMillion(nanoUsd(inputUsdPerMillion))
                .outputNanoUsdPerMillion(nanoUsd(outputUsdPerMillion))
                .capabilities(Set.of("json", "tools"))
                .build();
    }

    private static RouteRequest request(long estimatedInputTokens, long maxTokens) {
        return StrategyFixtures.request("floor")
                .estimatedInputTokens(estimatedInputTokens)
                .maxTokens(maxTokens)
                .build();
    }
}
