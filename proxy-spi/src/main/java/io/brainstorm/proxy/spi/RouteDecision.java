package io.brainstorm.proxy.spi;

import java.util.ArrayList;
import java.util.List;

/**
 * A strategy's answer: the candidates to try, in order. The first is tried first; the rest are
 * the failover order. Candidates left out are not tried.
 *
 * @param order  a non-empty selection of the candidates the strategy was given, each at most once
 * @param reason a short explanation for logs and the routing read-out (may be empty)
 */
public record RouteDecision(List<Candidate> order, String reason) {

    public RouteDecision {
        if (order == null || order.isEmpty()) {
            throw new IllegalArgumentException("order: " + order + " (expected: at least one candidate)");
        }
        order = List.copyOf(order);
        reason = reason == null ? "" : reason;
    }

    /** The candidates in the given order. */
    public static RouteDecision of(List<Candidate> order, String reason) {
        return new RouteDecision(order, reason);
    }

    /** {@code first}, then the other candidates in their given order. */
    public static RouteDecision firstThenRest(Candidate first, List<Candidate> candidates, String reason) {
        List<Candidate> order = new ArrayList<>(candidates.size());
        order.add(first);
        for (Candidate c : candidates) {
            if (c != first) {
                order.add(c);
            }
        }
        return new RouteDecision(order, reason);
    }

    /** The candidate tried first. */
    public Candidate first() {
        return order.get(0);
    }
}
