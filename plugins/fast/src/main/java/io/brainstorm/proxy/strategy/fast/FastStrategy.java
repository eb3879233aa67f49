package io.brainstorm.proxy.strategy.fast;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * {@code :fast}: the endpoints in ascending order of observed latency at one quantile of the
 * gateway's recent window ({@link io.brainstorm.proxy.spi.EndpointStats#latencyFor}: time to first
 * event for a streamed request, to the whole answer otherwise).
 *
 * <p><b>Optimistic prior.</b> An endpoint with fewer than {@code warmupSamples} samples in the
 * window counts as latency 0, so it goes first and gets measured; several such endpoints keep their
 * configured order, as do endpoints of equal latency. Once each has its samples, the fastest wins.
 * Because the window is recent, an endpoint that went quiet is measured again when its samples age
 * out.
 *
 * <p><b>Threading.</b> Immutable; {@link #route} keeps everything in locals, so any number of event
 * loops may call it at once. Never blocks.
 */
public final class FastStrategy implements RoutingStrategy {
    /** The latency quantile routed by. */
    public enum Quantile {
        P50,
        P90,
        P99;

        long of(LatencyStats stats) {
            return switch (this) {
                case P50 -> stats.p50Micros();
                case P90 -> stats.p90Micros();
                case P99 -> stats.p99Micros();
            };
        }

        /** {@code p50}, as written in the configuration. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final int INDEX_BITS = 16;
    private static final int MAX_CANDIDATES = 1 << INDEX_BITS;
    private static final long MAX_LATENCY_KEY = Long.MAX_VALUE >>> INDEX_BITS;

    private final Quantile quantile;
    private final long warmupSamples;

    /**
     * @param quantile      the latency quantile to compare
     * @param warmupSamples samples an endpoint needs before its latency counts; fewer count as 0
     */
    public FastStrategy(Quantile quantile, long warmupSamples) {
        if (quantile == null || warmupSamples < 0) {
            throw new IllegalArgumentException(
                    "quantile: " + quantile + ", warmupSamples: " + warmupSamples + " (expected: set and >= 0)");
        }
        this.quantile = quantile;
        this.warmupSamples = warmupSamples;
    }

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        int n = candidates.size();
        if (n > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates: " + n + " (expected: at most " + MAX_CANDIDATES + ")");
        }
        boolean stream = request.stream();
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = Math.min(latencyMicros(candidates.get(i), stream), MAX_LATENCY_KEY) << INDEX_BITS | i;
        }
        Arrays.sort(keys);
        Candidate[] order = new Candidate[n];
        for (int i = 0; i < n; i++) {
            order[i] = candidates.get((int) (keys[i] & (MAX_CANDIDATES - 1)));
        }
        return RouteDecision.of(Arrays.asList(order), reason(order[0], stream));
    }

    /** The latency a candidate is ranked by: 0 until it has its warm-up samples. */
    private long latencyMicros(Candidate c, boolean stream) {
        LatencyStats stats = c.stats().latencyFor(stream);
        return stats.count() < warmupSamples ? 0 : quantile.of(stats);
    }

    private String reason(Candidate first, boolean stream) {
        LatencyStats stats = first.stats().latencyFor(stream);
        if (stats.count() < warmupSamples) {
            return "measuring: " + stats.count() + " of " + warmupSamples + " samples";
        }
        return "fastest: " + (stream ? "ttft " : "") + quantile.label() + " " + millis(quantile.of(stats));
    }

    /** {@code 120.3 ms} for 120,345 µs (ASCII, so the reason can travel in a header). */
    static String millis(long micros) {
        return micros / 1000 + "." + micros % 1000 / 100 + " ms";
    }

    @Override
    public String toString() {
        return "fast(" + quantile.label() + ", warmup " + warmupSamples + ")";
    }
}
