package io.brainstorm.proxy.spi;

/** An endpoint's circuit breaker, as the gateway sees it when it routes. */
public enum CircuitState {
    /** healthy: requests flow */
    CLOSED,
    /** recovering: a few probe requests may pass; one success closes it, one failure opens it again */
    HALF_OPEN,
    /** failing or cooling down after a 429: no requests. Strategies never receive such a candidate. */
    OPEN
}
