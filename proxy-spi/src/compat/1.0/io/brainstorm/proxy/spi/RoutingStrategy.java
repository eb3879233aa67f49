package io.brainstorm.proxy.spi;

import java.util.List;
import java.util.random.RandomGenerator;

/** SPI 1.0's surface, frozen: signatures only. */
public interface RoutingStrategy {
    RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random);

    default void observe(Outcome outcome) { throw null; }
}
