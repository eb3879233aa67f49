package io.brainstorm.proxy.spi;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Orders the eligible endpoints for one request: the first is tried first, the rest are the
 * failover order.
 *
 * <p><b>Threading.</b> {@link #route} and {@link #observe} run on the gateway's event loops, several
 * at once: implementations must be thread-safe, must not block (no I/O, no locks held for long, no
 * waiting) and should return in a few microseconds.
 *
 * <p><b>Purity.</b> {@code route} should depend only on its arguments (and on state the strategy
 * keeps from {@link #observe}); all randomness must come from the {@code random} argument, which
 * the gateway seeds so that a run can be replayed.
 */
public interface RoutingStrategy {

    /**
     * Chooses the order in which to try the candidates.
     *
     * @param request    what is asked
     * @param candidates the eligible endpoints, never empty: the tenant has a key for each, each
     *                   supports what the request needs (tools, JSON, context length), and none has
     *                   an open circuit. In configured order. Immutable.
     * @param random     the source of every random choice
     * @return the candidates to try, in order; candidates left out are not tried
     * @throws RuntimeException on a bug: the gateway logs it and falls back to configured order
     */
    RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random);

    /**
     * Called once for every attempt this strategy routed, after it ended (answered, failed, or
     * timed out). The gateway keeps the learning state itself and passes it in
     * {@link Candidate#stats()}; this hook is for state a strategy keeps of its own.
     */
    default void observe(Outcome outcome) {}
}
