package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public final class LatencyStats {
    public static final LatencyStats EMPTY = null;

    private LatencyStats() { throw null; }

    public static LatencyStats of(long count, long p50Micros, long p90Micros, long p99Micros) { throw null; }
    public long count() { throw null; }
    public long p50Micros() { throw null; }
    public long p90Micros() { throw null; }
    public long p99Micros() { throw null; }
    public boolean isEmpty() { throw null; }
}
