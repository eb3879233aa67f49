package io.brainstorm.proxy.strategy.auto;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
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
     * The one endpoint of model {@code sim/<name>}: quality posterior Beta(α, β), a price in USD per
     * million tokens (input and output alike), capabilities and a context length.
     */
    static Candidate model(String name, double alpha, double beta, double usdPerMillion, Set<String> capabilities,
                           long contextLength) {
        EndpointStats stats = new EndpointStats(50, 0, LatencyStats.EMPTY, LatencyStats.EMPTY, alpha, beta,
                CircuitState.CLOSED);
        long price = Math.round(usdPerMillion * 1e9);
        return new Candidate("sim/" + name + "@sim-east", "sim-east", "sim/" + name, price, price, capabilities,
                contextLength, 4_096, stats);
    }

    static Candidate model(String name, double alpha, double beta, double usdPerMillion) {
        return model(name, alpha, beta, usdPerMillion, Set.of("tools", "json"), 128_000);
    }

    static RouteRequest request(boolean tools, boolean json, long estimatedInputTokens, long maxTokens) {
        return new RouteRequest("req-1", "acme", "auto", "auto", TaskClass.of(tools, json, estimatedInputTokens),
                false, tools, json, estimatedInputTokens, maxTokens, "");
    }

    static RouteRequest plain() {
        return request(false, false, 500, -1);
    }

    static List<String> models(List<Candidate> order) {
        return order.stream().map(Candidate::model).toList();
    }

    /** How often each model goes first over {@code draws} routes of {@code request} with one generator. */
    static Map<String, Integer> firstCounts(RoutingStrategy s, RouteRequest request, List<Candidate> candidates,
                                            RandomGenerator random, int draws) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < draws; i++) {
            counts.merge(s.route(request, candidates, random).first().model(), 1, Integer::sum);
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
