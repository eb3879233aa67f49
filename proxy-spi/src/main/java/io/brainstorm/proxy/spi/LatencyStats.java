package io.brainstorm.proxy.spi;

import java.util.Objects;

/**
 * Latency quantiles over the gateway's recent window for one endpoint, in microseconds. Immutable.
 *
 * <p>Made by {@link #of}; should a later minor version add a quantile, it adds a factory and keeps
 * this one.
 */
public final class LatencyStats {

    /** No samples. */
    public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0);

    private final long count;
    private final long p50Micros;
    private final long p90Micros;
    private final long p99Micros;

    private LatencyStats(long count, long p50Micros, long p90Micros, long p99Micros) {
        if (count < 0 || p50Micros < 0 || p90Micros < 0 || p99Micros < 0) {
            throw new IllegalArgumentException("latency stats: " + count + " samples, " + p50Micros + "/" + p90Micros
                    + "/" + p99Micros + " µs (expected: >= 0)");
        }
        this.count = count;
        this.p50Micros = p50Micros;
        this.p90Micros = p90Micros;
        this.p99Micros = p99Micros;
    }

    /**
     * @param count     samples in the window; 0 when the endpoint has not answered recently
     * @param p50Micros median
     * @param p90Micros 90th percentile
     * @param p99Micros 99th percentile
     * @throws IllegalArgumentException when a value is negative
     */
    public static LatencyStats of(long count, long p50Micros, long p90Micros, long p99Micros) {
        return new LatencyStats(count, p50Micros, p90Micros, p99Micros);
    }

    /** Samples in the window; 0 when the endpoint has not answered recently. */
    public long count() {
        return count;
    }

    /** Median. */
    public long p50Micros() {
        return p50Micros;
    }

    /** 90th percentile. */
    public long p90Micros() {
        return p90Micros;
    }

    /** 99th percentile. */
    public long p99Micros() {
        return p99Micros;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatencyStats s
                && count == s.count
                && p50Micros == s.p50Micros
                && p90Micros == s.p90Micros
                && p99Micros == s.p99Micros;
    }

    @Override
    public int hashCode() {
        return Objects.hash(count, p50Micros, p90Micros, p99Micros);
    }

    @Override
    public String toString() {
        return "LatencyStats[count=" + count + ", p50Micros=" + p50Micros + ", p90Micros=" + p90Micros + ", p99Micros="
                + p99Micros + "]";
    }
}
