package io.brainstorm.proxy.strategy.fast;

import static io.brainstorm.proxy.spi.testing.StrategyFixtures.candidate;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.endpoints;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.provider;
import static io.brainstorm.proxy.spi.testing.StrategyFixtures.strategy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
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

class FastStrategyTest {
    private final RoutingStrategy fast = strategy("fast", Map.of());

    @Test
    void afterWarmUpTheLowestMedianGoesFirstAndTheRestFollowAscending() {
        List<Candidate> configured = List.of(
                timed("slow", 50, 900_000, 1_000_000, 2_000_000),
                timed("quick", 50, 120_000, 400_000, 900_000),
                timed("middling", 50, 300_000, 350_000, 380_000));

        RouteDecision d = fast.route(request(false), configured, new SplittableRandom(1));

        assertEquals(List.of("quick", "middling", "slow"), endpoints(d.order()));
        assertEquals("fastest: p50 120.0 ms", d.reason());
    }

    @Test
    void theConfiguredQuantileDecides() {
        // jittery: good median, bad tail; steady: worse median, good tail
        List<Candidate> configured = List.of(
                timed("jittery", 50, 100_000, 900_000, 5_000_000), timed("steady", 50, 200_000, 250_000, 300_000));

        assertEquals(
                "jittery",
                fast.route(request(false), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
        RouteDecision p99 =
                strategy("fast", Map.of("quantile", "p99")).route(request(false), configured, new SplittableRandom(1));
        assertEquals("steady", p99.first().endpoint());
        assertEquals("fastest: p99 300.0 ms", p99.reason());
        assertEquals(
                "steady",
                strategy("fast", Map.of("quantile", "p90"))
                        .route(request(false), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
    }

    @Test
    void streamsAreRankedByTimeToFirstToken() {
        // quick-total answers whole requests fast but starts streams late; quick-start the reverse
        Candidate quickTotal = timed(
                "quick-total",
                LatencyStats.of(50, 100_000, 110_000, 120_000),
                LatencyStats.of(50, 80_000, 90_000, 95_000));
        Candidate quickStart = timed(
                "quick-start",
                LatencyStats.of(50, 900_000, 950_000, 990_000),
                LatencyStats.of(50, 20_000, 25_000, 30_000));
        List<Candidate> configured = List.of(quickTotal, quickStart);

        assertEquals(
                "quick-total",
                fast.route(request(false), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
        RouteDecision streamed = fast.route(request(true), configured, new SplittableRandom(1));
        assertEquals("quick-start", streamed.first().endpoint());
        assertEquals("fastest: ttft p50 20.0 ms", streamed.reason());
    }

    @Test
    void endpointsWithoutEnoughSamplesAreMeasuredFirstInConfiguredOrder() {
        List<Candidate> configured = List.of(
                timed("measured", 50, 10_000, 20_000, 30_000),
                timed("four-samples", 4, 800_000, 800_000, 800_000),
                timed("unseen", 0, 0, 0, 0));

        RouteDecision d = fast.route(request(false), configured, new SplittableRandom(1));

        assertEquals(List.of("four-samples", "unseen", "measured"), endpoints(d.order()));
        assertEquals("measuring: 4 of 5 samples", d.reason());
    }

    @Test
    void onceWarmedUpASlowEndpointFallsBehind() {
        List<Candidate> configured = List.of(
                timed("measured", 50, 10_000, 20_000, 30_000), timed("five-samples", 5, 800_000, 800_000, 800_000));

        assertEquals(
                List.of("measured", "five-samples"),
                endpoints(fast.route(request(false), configured, new SplittableRandom(1))
                        .order()));
    }

    @Test
    void warmUpSamplesAreConfigurable() {
        List<Candidate> configured = List.of(
                timed("measured", 50, 10_000, 20_000, 30_000), timed("two-samples", 2, 800_000, 800_000, 800_000));

        assertEquals(
                "two-samples",
                fast.route(request(false), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
        assertEquals(
                "measured",
                strategy("fast", Map.of("warmup_samples", "2"))
                        .route(request(false), configured, new SplittableRandom(1))
                        .first()
                        .endpoint());
    }

    @Test
    void equalLatenciesKeepConfiguredOrder() {
        List<Candidate> configured = List.of(
                timed("c", 9, 500, 500, 500),
                timed("a", 9, 400, 400, 400),
                timed("b", 9, 500, 500, 500),
                timed("d", 9, 500, 500, 500));

        assertEquals(
                List.of("a", "c", "b", "d"),
                endpoints(fast.route(request(false), configured, new SplittableRandom(1))
                        .order()));
    }

    @Test
    void millisecondsHaveOneDecimal() {
        assertEquals("0.0 ms", FastStrategy.millis(0));
        assertEquals("0.9 ms", FastStrategy.millis(999));
        assertEquals("120.3 ms", FastStrategy.millis(120_345));
    }

    @Test
    void invalidSettingsAreRefusedByName() {
        var p = provider("fast");
        assertEquals(SpiVersion.MAJOR, p.spiVersion());
        assertEquals(
                "routing.strategies.fast.quantile: p95 (expected: p50, p90 or p99)",
                refused(Map.of("quantile", "p95")));
        assertEquals(
                "routing.strategies.fast.warmup_samples: -1 (expected: a whole number >= 0)",
                refused(Map.of("warmup_samples", "-1")));
        assertEquals(
                "routing.strategies.fast.warmup_samples: 2.5 (expected: a whole number >= 0)",
                refused(Map.of("warmup_samples", "2.5")));
        assertEquals(
                "routing.strategies.fast.warmup_samples: many (expected: a number)",
                refused(Map.of("warmup_samples", "many")));
        assertEquals(
                "routing.strategies.fast.quantil: unknown setting (expected: quantile, warmup_samples)",
                refused(Map.of("quantil", "p90")));
    }

    private static String refused(Map<String, String> settings) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> provider("fast").create(StrategyConfig.of("fast", settings)))
                .getMessage();
    }

    /** An endpoint of {@code sim/alpha} with non-streamed and time-to-first-token latency windows. */
    private static Candidate timed(String endpoint, LatencyStats latency, LatencyStats ttft) {
        EndpointStats stats = EndpointStats.builder()
                .requests(latency.count() + ttft.count())
                .latency(latency)
                .ttft(ttft)
                .build();
        return candidate(endpoint)
                .inputNanoUsdPerMillion(1_000_000_000L)
                .outputNanoUsdPerMillion(2_000_000_000L)
                .stats(stats)
                .build();
    }

    /** Non-streamed latency only. */
    private static Candidate timed(String endpoint, long samples, long p50, long p90, long p99) {
        return timed(endpoint, LatencyStats.of(samples, p50, p90, p99), LatencyStats.EMPTY);
    }

    private static RouteRequest request(boolean stream) {
        return StrategyFixtures.request("fast").stream(stream)
                .estimatedInputTokens(100)
                .build();
    }
}
