package io.brainstorm.proxy.route;

import java.time.Duration;

/**
 * Settings of {@link RoutingState}: how every endpoint's circuit breaker behaves and how far back
 * the stats given to routing strategies look.
 *
 * @param circuit        the circuit breakers' settings
 * @param latencyWindow  how far back latency, time to first token, attempts and errors count
 * @param latencyBuckets how many slices the window is cut into; it moves a slice at a time
 */
public record HealthConfig(CircuitConfig circuit, Duration latencyWindow, int latencyBuckets) {

    /** {@link CircuitConfig#DEFAULTS}; latency and errors over 60 s in 6 buckets of 10 s. */
    public static final HealthConfig DEFAULTS = new HealthConfig(CircuitConfig.DEFAULTS, Duration.ofSeconds(60), 6);

    /** Most buckets a window may have; each holds two histograms per endpoint. */
    public static final int MAX_BUCKETS = 60;

    public HealthConfig {
        if (circuit == null) {
            throw new IllegalArgumentException("circuit: null (expected: set)");
        }
        CircuitConfig.requireMillis("latencyWindow", latencyWindow);
        if (latencyBuckets < 1 || latencyBuckets > MAX_BUCKETS || latencyBuckets > latencyWindow.toMillis()) {
            throw new IllegalArgumentException("latencyBuckets: " + latencyBuckets + " (expected: 1.." + MAX_BUCKETS
                    + " and at most latencyWindow in ms, " + latencyWindow.toMillis() + ")");
        }
    }
}
