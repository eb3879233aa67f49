package io.brainstorm.proxy.strategy.best;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.TaskClass;

import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/** Fixed candidate sets and requests for the strategy tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** An endpoint of {@code sim/alpha} with a quality posterior Beta(α, β), priced in USD per million tokens. */
    static Candidate learnt(String endpoint, double alpha, double beta, double inputUsdPerMillion,
                            double outputUsdPerMillion) {
        EndpointStats stats = new EndpointStats(10, 0, LatencyStats.EMPTY, LatencyStats.EMPTY, alpha, beta,
                CircuitState.CLOSED);
        return new Candidate("sim/alpha@" + endpoint, endpoint, "sim/alpha", Math.round(inputUsdPerMillion * 1e9),
                Math.round(outputUsdPerMillion * 1e9), Set.of(), 128_000, 4_096, stats);
    }

    static Candidate learnt(String endpoint, double alpha, double beta) {
        return learnt(endpoint, alpha, beta, 1, 1);
    }

    static RouteRequest request(long estimatedInputTokens, long maxTokens) {
        return new RouteRequest("req-1", "acme", "sim/alpha", "best",
                TaskClass.of(false, false, estimatedInputTokens), false, false, false, estimatedInputTokens,
                maxTokens, "");
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
}
