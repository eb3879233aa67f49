package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One routing decision (target in benchmarks/README.md: ≤ 2 µs for 50 candidates): {@link RoutingStrategy#route} of
 * each built-in strategy, loaded through {@link ServiceLoader} as the core loads it, over 5 or 50
 * candidates with varied prices, latency windows and quality posteriors, the reason string
 * included. The generator is a {@link SplittableRandom} that advances across calls, as the core's
 * would. {@link ThompsonDrawBenchmark} isolates the Beta draw that {@code smart} and {@code auto}
 * make per candidate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RoutingBenchmark {

    @SuppressWarnings("NullAway.Init") // a @Param: JMH sets it before any @Setup
    @Param({"floor", "fast", "best", "smart", "auto"})
    public String strategy;

    @Param({"5", "50"})
    public int candidates;

    private RoutingStrategy router;
    private List<Candidate> list;
    private RouteRequest request;
    private final SplittableRandom random = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void setUp() {
        router = ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(strategy))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no strategy " + strategy))
                .create(StrategyConfig.empty(strategy));
        list = candidates(candidates, new SplittableRandom(7));
        request = RouteRequest.builder()
                .requestId("req-1")
                .tenant("acme")
                .model(strategy.equals("auto") ? "auto" : "sim/alpha")
                .variant(strategy)
                .estimatedInputTokens(1_200)
                .build();
    }

    /**
     * {@code n} candidates over ten models whose prices span three decades, each with a latency
     * window (a few without, as new endpoints are) and a posterior worth up to 400 answers.
     */
    static List<Candidate> candidates(int n, SplittableRandom r) {
        List<Candidate> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long input = (long) (Math.pow(10, r.nextDouble(-1, 2)) * 1e9);
            LatencyStats latency = i % 7 == 3
                    ? LatencyStats.EMPTY
                    : LatencyStats.of(50, r.nextLong(50_000, 2_000_000), 2_500_000, 4_000_000);
            double answers = r.nextDouble(0, 400);
            double good = answers * r.nextDouble(0.3, 0.95);
            EndpointStats stats = EndpointStats.builder()
                    .requests(50)
                    .errorRate(0.01)
                    .latency(latency)
                    .quality(1 + good, 1 + answers - good)
                    .build();
            String model = "sim/m" + i % 10;
            out.add(Candidate.builder()
                    .endpoint("ep" + i)
                    .model(model)
                    .inputNanoUsdPerMillion(input)
                    .outputNanoUsdPerMillion(input * 4)
                    .capabilities(Set.of("json", "tools"))
                    .contextLength(128_000)
                    .maxOutputTokens(4_096)
                    .stats(stats)
                    .build());
        }
        return List.copyOf(out);
    }

    @Benchmark
    public RouteDecision route() {
        return router.route(request, list, random);
    }
}
