package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public final class EndpointStats {
    public static final EndpointStats UNSEEN = null;

    private EndpointStats() { throw null; }

    public static Builder builder() { throw null; }
    public long requests() { throw null; }
    public double errorRate() { throw null; }
    public LatencyStats latency() { throw null; }
    public LatencyStats ttft() { throw null; }
    public double qualityAlpha() { throw null; }
    public double qualityBeta() { throw null; }
    public CircuitState circuit() { throw null; }
    public double qualityMean() { throw null; }
    public LatencyStats latencyFor(boolean stream) { throw null; }

    public static final class Builder {
        private Builder() { throw null; }

        public Builder requests(long requests) { throw null; }
        public Builder errorRate(double errorRate) { throw null; }
        public Builder latency(LatencyStats latency) { throw null; }
        public Builder ttft(LatencyStats ttft) { throw null; }
        public Builder quality(double alpha, double beta) { throw null; }
        public Builder circuit(CircuitState circuit) { throw null; }
        public EndpointStats build() { throw null; }
    }
}
