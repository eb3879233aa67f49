package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One call of a routing strategy for the {@link Router}: the strategy draws from a generator seeded
 * by the routing seed and the request id, so that a decision can be replayed from the two; and a
 * strategy that throws, or answers with candidates it was not given, costs the request nothing but
 * its order: the configured order is used instead and the log says why.
 *
 * <p><b>Threading:</b> stateless; called on event loops.
 */
final class StrategyCall {
    /** Under the router's name, where these warnings have always been logged. */
    private static final System.Logger log = System.getLogger(Router.class.getName());

    private StrategyCall() {}

    /**
     * The strategy's decision for {@code request}, or the configured order when it throws or
     * answers with anything but a selection of {@code candidates}.
     *
     * @param strategyName the name it routes under, for the log
     * @param seed         the routing seed; with the request id it seeds the strategy's random numbers
     */
    static RouteDecision decide(
            RoutingStrategy strategy,
            String strategyName,
            RouteRequest request,
            List<Candidate> candidates,
            long seed) {
        SplittableRandom random =
                new SplittableRandom(seed ^ mix(request.requestId().hashCode()));
        RouteDecision d;
        try {
            d = strategy.route(request, candidates, random);
        } catch (RuntimeException e) {
            log.log(
                    System.Logger.Level.WARNING,
                    "strategy '" + strategyName + "' failed on request " + request.requestId()
                            + "; using configured order",
                    e);
            return RouteDecision.of(candidates, "strategy failed; configured order");
        }
        if (d == null || !ownOrder(d.order(), candidates)) {
            log.log(
                    System.Logger.Level.WARNING,
                    "strategy ''{0}'' returned {1} for request {2}, not a selection of its"
                            + " candidates; using configured order",
                    strategyName,
                    d,
                    request.requestId());
            return RouteDecision.of(candidates, "strategy answer invalid; configured order");
        }
        return d;
    }

    /** Whether {@code order} holds only the given candidates (the same objects), each at most once. */
    private static boolean ownOrder(List<Candidate> order, List<Candidate> candidates) {
        IdentityHashMap<Candidate, Boolean> seen = new IdentityHashMap<>();
        for (Candidate c : order) {
            if (seen.put(c, Boolean.TRUE) != null || !containsSame(candidates, c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean containsSame(List<Candidate> list, Candidate c) {
        for (Candidate x : list) {
            if (x == c) {
                return true;
            }
        }
        return false;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
