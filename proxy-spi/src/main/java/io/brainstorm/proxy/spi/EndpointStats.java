package io.brainstorm.proxy.spi;

import java.util.Objects;

/**
 * What the gateway knows of an endpoint at routing time: a snapshot, never updated in place.
 *
 * <p>The gateway makes these; a plugin reads them through the accessors and makes its own only in
 * tests, with {@link #builder()}. See the package doc for what may change in a minor version.
 */
public final class EndpointStats {

    /** An endpoint nothing is known about: uniform quality prior, no latency, circuit closed. */
    public static final EndpointStats UNSEEN = builder().build();

    private final long requests;
    private final double errorRate;
    private final LatencyStats latency;
    private final LatencyStats ttft;
    private final double qualityAlpha;
    private final double qualityBeta;
    private final CircuitState circuit;

    private EndpointStats(Builder b) {
        if (!(b.qualityAlpha > 0)
                || !(b.qualityBeta > 0)
                || Double.isInfinite(b.qualityAlpha)
                || Double.isInfinite(b.qualityBeta)) {
            throw new IllegalArgumentException(
                    "quality: Beta(" + b.qualityAlpha + ", " + b.qualityBeta + ") (expected: finite α > 0 and β > 0)");
        }
        if (!(b.errorRate >= 0 && b.errorRate <= 1)) {
            throw new IllegalArgumentException("errorRate: " + b.errorRate + " (expected: 0..1)");
        }
        if (b.requests < 0 || b.latency == null || b.ttft == null || b.circuit == null) {
            throw new IllegalArgumentException("requests: " + b.requests + ", latency: " + b.latency + ", ttft: "
                    + b.ttft + ", circuit: " + b.circuit + " (expected: >= 0 and all set)");
        }
        this.requests = b.requests;
        this.errorRate = b.errorRate;
        this.latency = b.latency;
        this.ttft = b.ttft;
        this.qualityAlpha = b.qualityAlpha;
        this.qualityBeta = b.qualityBeta;
        this.circuit = b.circuit;
    }

    /** A builder that starts as {@link #UNSEEN}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Attempts in the recent window. */
    public long requests() {
        return requests;
    }

    /** Share of those attempts that failed (0..1; 0 with no attempts). */
    public double errorRate() {
        return errorRate;
    }

    /** Time to the whole answer of non-streamed requests. */
    public LatencyStats latency() {
        return latency;
    }

    /** Time to the first streamed event of streamed requests. */
    public LatencyStats ttft() {
        return ttft;
    }

    /** The Beta posterior's α of answer quality for the request's task class (1 with no data: the uniform prior). */
    public double qualityAlpha() {
        return qualityAlpha;
    }

    /** Its β (1 with no data). */
    public double qualityBeta() {
        return qualityBeta;
    }

    /** The circuit breaker's state. */
    public CircuitState circuit() {
        return circuit;
    }

    /** The posterior mean of answer quality, α ÷ (α + β); 0.5 with no data. */
    public double qualityMean() {
        return qualityAlpha / (qualityAlpha + qualityBeta);
    }

    /** The latency that matters for a request: time to first event when streamed, else to the whole answer. */
    public LatencyStats latencyFor(boolean stream) {
        return stream ? ttft : latency;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EndpointStats s
                && requests == s.requests
                && Double.compare(errorRate, s.errorRate) == 0
                && latency.equals(s.latency)
                && ttft.equals(s.ttft)
                && Double.compare(qualityAlpha, s.qualityAlpha) == 0
                && Double.compare(qualityBeta, s.qualityBeta) == 0
                && circuit == s.circuit;
    }

    @Override
    public int hashCode() {
        return Objects.hash(requests, errorRate, latency, ttft, qualityAlpha, qualityBeta, circuit);
    }

    @Override
    public String toString() {
        return "EndpointStats[requests=" + requests + ", errorRate=" + errorRate + ", latency=" + latency + ", ttft="
                + ttft + ", qualityAlpha=" + qualityAlpha + ", qualityBeta=" + qualityBeta + ", circuit=" + circuit
                + "]";
    }

    /**
     * Makes {@link EndpointStats}. Unset values are those of {@link #UNSEEN}: no requests, error
     * rate 0, {@link LatencyStats#EMPTY} latencies, quality Beta(1, 1), circuit closed.
     * Not thread-safe; {@link #build()} may be called more than once.
     */
    public static final class Builder {
        private long requests;
        private double errorRate;
        private LatencyStats latency = LatencyStats.EMPTY;
        private LatencyStats ttft = LatencyStats.EMPTY;
        private double qualityAlpha = 1;
        private double qualityBeta = 1;
        private CircuitState circuit = CircuitState.CLOSED;

        private Builder() {}

        public Builder requests(long requests) {
            this.requests = requests;
            return this;
        }

        public Builder errorRate(double errorRate) {
            this.errorRate = errorRate;
            return this;
        }

        public Builder latency(LatencyStats latency) {
            this.latency = latency;
            return this;
        }

        public Builder ttft(LatencyStats ttft) {
            this.ttft = ttft;
            return this;
        }

        /** The quality posterior Beta(α, β). */
        public Builder quality(double alpha, double beta) {
            this.qualityAlpha = alpha;
            this.qualityBeta = beta;
            return this;
        }

        public Builder circuit(CircuitState circuit) {
            this.circuit = circuit;
            return this;
        }

        /**
         * @throws IllegalArgumentException when α or β is not finite and above 0, the error rate is
         *                                  outside 0..1, the request count is negative, or a value is null
         */
        public EndpointStats build() {
            return new EndpointStats(this);
        }
    }
}
