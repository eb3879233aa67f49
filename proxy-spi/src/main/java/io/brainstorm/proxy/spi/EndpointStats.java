package io.brainstorm.proxy.spi;

/**
 * What the gateway knows of an endpoint at routing time: a snapshot, never updated in place.
 *
 * @param requests     attempts in the recent window
 * @param errorRate    share of those attempts that failed (0..1; 0 with no attempts)
 * @param latency      time to the whole answer of non-streamed requests
 * @param ttft         time to the first streamed event of streamed requests
 * @param qualityAlpha the Beta posterior's α of answer quality for the request's task class
 *                     (1 with no data: the uniform prior)
 * @param qualityBeta  its β (1 with no data)
 * @param circuit      the circuit breaker's state
 */
public record EndpointStats(long requests, double errorRate, LatencyStats latency, LatencyStats ttft,
                            double qualityAlpha, double qualityBeta, CircuitState circuit) {

    /** An endpoint nothing is known about: uniform quality prior, no latency, circuit closed. */
    public static final EndpointStats UNSEEN = new EndpointStats(0, 0, LatencyStats.EMPTY, LatencyStats.EMPTY,
            1, 1, CircuitState.CLOSED);

    public EndpointStats {
        if (!(qualityAlpha > 0) || !(qualityBeta > 0) || Double.isInfinite(qualityAlpha)
                || Double.isInfinite(qualityBeta)) {
            throw new IllegalArgumentException("quality: Beta(" + qualityAlpha + ", " + qualityBeta
                    + ") (expected: finite α > 0 and β > 0)");
        }
        if (!(errorRate >= 0 && errorRate <= 1)) {
            throw new IllegalArgumentException("errorRate: " + errorRate + " (expected: 0..1)");
        }
        if (requests < 0 || latency == null || ttft == null || circuit == null) {
            throw new IllegalArgumentException("requests: " + requests + ", latency: " + latency + ", ttft: " + ttft
                    + ", circuit: " + circuit + " (expected: >= 0 and all set)");
        }
    }

    /** The posterior mean of answer quality, α ÷ (α + β); 0.5 with no data. */
    public double qualityMean() {
        return qualityAlpha / (qualityAlpha + qualityBeta);
    }

    /** The latency that matters for a request: time to first event when streamed, else to the whole answer. */
    public LatencyStats latencyFor(boolean stream) {
        return stream ? ttft : latency;
    }
}
