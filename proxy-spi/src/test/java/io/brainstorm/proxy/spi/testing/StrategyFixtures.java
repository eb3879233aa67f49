package io.brainstorm.proxy.spi.testing;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * Requests, candidates and providers for strategy tests, shared by every plugin through the
 * proxy-spi test-jar ({@code <type>test-jar</type>}, scope {@code test}). JDK and SPI types only.
 */
public final class StrategyFixtures {
    /** The model of {@link #candidate} and {@link #request}. */
    public static final String MODEL = "sim/alpha";

    private StrategyFixtures() {}

    /**
     * {@link #MODEL} at {@code endpoint} (id {@code sim/alpha@<endpoint>}): 128,000 tokens of context,
     * 4,096 output tokens, no capabilities, free, never seen. Set what the test is about.
     */
    public static Candidate.Builder candidate(String endpoint) {
        return Candidate.builder()
                .endpoint(endpoint)
                .model(MODEL)
                .contextLength(128_000)
                .maxOutputTokens(4_096);
    }

    /** A price in USD per million tokens, in nano-USD per million, as {@link Candidate} holds it. */
    public static long nanoUsd(double usdPerMillion) {
        return Math.round(usdPerMillion * 1e9);
    }

    /** {@code requests} attempts seen, no errors, quality posterior Beta(α, β), no latency. */
    public static EndpointStats quality(long requests, double alpha, double beta) {
        return EndpointStats.builder().requests(requests).quality(alpha, beta).build();
    }

    /**
     * A request {@code req-1} of tenant {@code acme} for {@link #MODEL} through {@code variant}:
     * plain, not streamed, no {@code max_tokens}, no user, 0 estimated tokens unless set.
     */
    public static RouteRequest.Builder request(String variant) {
        return RouteRequest.builder()
                .requestId("req-1")
                .tenant("acme")
                .model(MODEL)
                .variant(variant);
    }

    /** The endpoints of an order, in order. */
    public static List<String> endpoints(List<Candidate> order) {
        return order.stream().map(Candidate::endpoint).toList();
    }

    /** The models of an order, in order. */
    public static List<String> models(List<Candidate> order) {
        return order.stream().map(Candidate::model).toList();
    }

    /** The provider named {@code name} among those this test's class path registers in META-INF/services. */
    public static RoutingStrategyProvider provider(String name) {
        return ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no provider named " + name + " in META-INF/services"));
    }

    /** {@link #provider}'s strategy with these settings. */
    public static RoutingStrategy strategy(String name, Map<String, String> settings) {
        return provider(name).create(StrategyConfig.of(name, settings));
    }

    /** How often each {@code key} of the first candidate comes up over {@code draws} routes with one generator. */
    public static Map<String, Integer> firstCounts(
            RoutingStrategy s,
            RouteRequest request,
            List<Candidate> candidates,
            RandomGenerator random,
            int draws,
            Function<Candidate, String> key) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < draws; i++) {
            counts.merge(key.apply(s.route(request, candidates, random).first()), 1, Integer::sum);
        }
        return counts;
    }
}
