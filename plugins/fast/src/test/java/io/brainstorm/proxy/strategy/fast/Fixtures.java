package io.brainstorm.proxy.strategy.fast;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.TaskClass;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/** Fixed candidate sets and requests for the strategy tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** An endpoint of {@code sim/alpha} with non-streamed and time-to-first-token latency windows. */
    static Candidate timed(String endpoint, LatencyStats latency, LatencyStats ttft) {
        EndpointStats stats = new EndpointStats(latency.count() + ttft.count(), 0, latency, ttft, 1, 1,
                CircuitState.CLOSED);
        return new Candidate("sim/alpha@" + endpoint, endpoint, "sim/alpha", 1_000_000_000L, 2_000_000_000L,
                Set.of(), 128_000, 4_096, stats);
    }

    /** Non-streamed latency only. */
    static Candidate timed(String endpoint, long samples, long p50, long p90, long p99) {
        return timed(endpoint, new LatencyStats(samples, p50, p90, p99), LatencyStats.EMPTY);
    }

    static RouteRequest request(boolean stream) {
        return new RouteRequest("req-1", "acme", "sim/alpha", "fast", TaskClass.of(false, false, 100), stream,
                false, false, 100, -1, "");
    }

    static List<String> ids(List<Candidate> order) {
        return order.stream().map(Candidate::endpoint).toList();
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
