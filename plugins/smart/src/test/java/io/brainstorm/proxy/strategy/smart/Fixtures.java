package io.brainstorm.proxy.strategy.smart;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.TaskClass;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.random.RandomGenerator;

/** Fixed candidate sets and requests for the strategy tests. */
final class Fixtures {
    private Fixtures() {
    }

    /**
     * An endpoint of {@code sim/alpha} with quality posterior Beta(α, β), a price in USD per
     * million tokens (input and output alike) and a median latency in ms (0: not measured).
     */
    static Candidate endpoint(String endpoint, double alpha, double beta, double usdPerMillion, long p50Millis) {
        LatencyStats latency = p50Millis == 0 ? LatencyStats.EMPTY
                : new LatencyStats(50, p50Millis * 1000, p50Millis * 1200, p50Millis * 1500);
        EndpointStats stats = new EndpointStats(50, 0, latency, LatencyStats.EMPTY, alpha, beta, CircuitState.CLOSED);
        long price = Math.round(usdPerMillion * 1e9);
        return new Candidate("sim/alpha@" + endpoint, endpoint, "sim/alpha", price, price, Set.of(), 128_000, 4_096,
                stats);
    }

    static RouteRequest request() {
        return new RouteRequest("req-1", "acme", "sim/alpha", "smart", TaskClass.of(false, false, 500), false, false,
                false, 500, 500, "");
    }

    static List<String> ids(List<Candidate> order) {
        return order.stream().map(Candidate::endpoint).toList();
    }

    /** How often each endpoint goes first over {@code draws} routes with one generator. */
    static Map<String, Integer> firstCounts(RoutingStrategy s, List<Candidate> candidates, RandomGenerator random,
                                            int draws) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < draws; i++) {
            RouteDecision d = s.route(request(), candidates, random);
            counts.merge(d.first().endpoint(), 1, Integer::sum);
        }
        return counts;
    }

    static RoutingStrategyProvider provider(String name) {
        return ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no provider named " + name + " in META-INF/services"));
    }

    static RoutingStrategy strategy(String name, Map<String, String> settings) {
        return provider(name).create(new StrategyConfig(name, settings));
    }
}
