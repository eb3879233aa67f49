package io.brainstorm.proxy.spi;

/**
 * Latency quantiles over the gateway's recent window for one endpoint, in microseconds.
 *
 * @param count      samples in the window; 0 when the endpoint has not answered recently
 * @param p50Micros  median
 * @param p90Micros  90th percentile
 * @param p99Micros  99th percentile
 */
public record LatencyStats(long count, long p50Micros, long p90Micros, long p99Micros) {

    /** No samples. */
    public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0);

    public LatencyStats {
        if (count < 0 || p50Micros < 0 || p90Micros < 0 || p99Micros < 0) {
            throw new IllegalArgumentException("latency stats: " + count + " samples, " + p50Micros + "/" + p90Micros
                    + "/" + p99Micros + " µs (expected: >= 0)");
        }
    }

    public boolean isEmpty() {
        return count == 0;
    }
}
