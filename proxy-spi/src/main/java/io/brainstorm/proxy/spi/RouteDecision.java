package io.brainstorm.proxy.spi;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A strategy's answer: the candidates to try, in order. The first is tried first; the rest are
 * the failover order. Candidates left out are not tried. Immutable; made by {@link #of} or
 * {@link #firstThenRest}.
 */
public final class RouteDecision {

    private final List<Candidate> order;
    private final String reason;

    private RouteDecision(List<Candidate> order, @Nullable String reason) {
        if (order == null || order.isEmpty()) {
            throw new IllegalArgumentException("order: " + order + " (expected: at least one candidate)");
        }
        this.order = List.copyOf(order);
        this.reason = reason == null ? "" : reason;
    }

    /**
     * The candidates in the given order.
     *
     * @param order  a non-empty selection of the candidates the strategy was given, each at most once
     * @param reason a short explanation for logs and the routing read-out (may be empty or null)
     * @throws IllegalArgumentException when {@code order} is null or empty
     */
    public static RouteDecision of(List<Candidate> order, @Nullable String reason) {
        return new RouteDecision(order, reason);
    }

    /**
     * {@code first}, then the other candidates in their given order.
     *
     * @param reason as for {@link #of}: may be empty or null
     */
    public static RouteDecision firstThenRest(Candidate first, List<Candidate> candidates, @Nullable String reason) {
        List<Candidate> order = new ArrayList<>(candidates.size());
        order.add(first);
        for (Candidate c : candidates) {
            if (c != first) {
                order.add(c);
            }
        }
        return new RouteDecision(order, reason);
    }

    /** The candidates to try, in order: never empty. */
    public List<Candidate> order() {
        return order;
    }

    /** A short explanation for logs and the routing read-out; empty when none was given. */
    public String reason() {
        return reason;
    }

    /** The candidate tried first. */
    public Candidate first() {
        return order.get(0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RouteDecision d && order.equals(d.order) && reason.equals(d.reason);
    }

    @Override
    public int hashCode() {
        return 31 * order.hashCode() + reason.hashCode();
    }

    @Override
    public String toString() {
        return "RouteDecision[order=" + order + ", reason=" + reason + "]";
    }
}
