package io.brainstorm.proxy.strategy.floor;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.TaskClass;

import java.util.List;
import java.util.Set;

/** Fixed candidate sets and requests for the strategy tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** An endpoint of {@code sim/alpha} priced in USD per million tokens. */
    static Candidate priced(String endpoint, double inputUsdPerMillion, double outputUsdPerMillion) {
        return new Candidate("sim/alpha@" + endpoint, endpoint, "sim/alpha", nano(inputUsdPerMillion),
                nano(outputUsdPerMillion), Set.of("json", "tools"), 128_000, 4_096, EndpointStats.UNSEEN);
    }

    static RouteRequest request(long estimatedInputTokens, long maxTokens) {
        return new RouteRequest("req-1", "acme", "sim/alpha", "floor",
                TaskClass.of(false, false, estimatedInputTokens), false, false, false, estimatedInputTokens,
                maxTokens, "");
    }

    static List<String> ids(List<Candidate> order) {
        return order.stream().map(Candidate::endpoint).toList();
    }

    private static long nano(double usd) {
        return Math.round(usd * 1e9);
    }
}
