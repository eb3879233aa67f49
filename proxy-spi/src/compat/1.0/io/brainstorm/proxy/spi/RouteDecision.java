package io.brainstorm.proxy.spi;

import java.util.List;

/** SPI 1.0's surface, frozen: signatures only. */
public final class RouteDecision {
    private RouteDecision() { throw null; }

    public static RouteDecision of(List<Candidate> order, String reason) { throw null; }
    public static RouteDecision firstThenRest(Candidate first, List<Candidate> candidates, String reason) { throw null; }
    public List<Candidate> order() { throw null; }
    public String reason() { throw null; }
    public Candidate first() { throw null; }
}
