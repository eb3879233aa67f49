package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.LatencyStats;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.IntCountsHistogram;

import java.time.Duration;

/**
 * Latency quantiles (p50, p90, p99) over a sliding time window, for the {@code :fast} strategy:
 * {@link EndpointHealth} keeps one for whole answers and one for time to first token.
 *
 * <p>The window is cut into buckets as {@link WindowCounts} cuts it (an HdrHistogram each, two
 * significant digits, so quantiles are within 1 %): samples older than the window never count,
 * samples younger than the window minus two buckets always do. Values are microseconds, capped at
 * one hour.
 *
 * <p><b>Cost:</b> {@link #stats} is read for every candidate of every request, so it returns a
 * cached result and merges the buckets again only when the window moved to a new bucket, or when
 * samples arrived and a tenth of a bucket has passed since the last merge (at once if the cached
 * result is empty, so a first answer shows). A result thus lags at most a tenth of a bucket behind
 * new samples and never a whole bucket behind the window.
 *
 * <p><b>Threading:</b> {@link #record} and the merge run in short {@code synchronized} sections;
 * a cache hit in {@link #stats} reads two volatile fields and never locks.
 */
public final class LatencyWindow {
    /** Latencies above this are recorded as this. */
    public static final long MAX_MICROS = Duration.ofHours(1).toNanos() / 1000;

    private record Cached(long bucket, long computedAtMillis, long recorded, LatencyStats stats) {
    }

    private final long bucketMillis;
    private final long refreshMillis;
    private final IntCountsHistogram[] buckets;
    private final Histogram merged = new Histogram(2);
    private long head = Long.MIN_VALUE;
    private volatile long recorded;
    private volatile Cached cached = new Cached(Long.MIN_VALUE, Long.MIN_VALUE, 0, LatencyStats.EMPTY);

    /** @param window how far back samples count; {@code buckets} slices of it move at a time (for example 60 s in 6) */
    public LatencyWindow(Duration window, int buckets) {
        CircuitConfig.requireMillis("window", window);
        long windowMillis = window.toMillis();
        if (buckets < 1 || buckets > HealthConfig.MAX_BUCKETS || buckets > windowMillis) {
            throw new IllegalArgumentException("buckets: " + buckets + " (expected: 1.." + HealthConfig.MAX_BUCKETS
                    + " and at most window in ms, " + windowMillis + ")");
        }
        this.bucketMillis = windowMillis / buckets;
        this.refreshMillis = Math.max(1, bucketMillis / 10);
        this.buckets = new IntCountsHistogram[(int) (windowMillis / bucketMillis)];
        for (int i = 0; i < this.buckets.length; i++) {
            this.buckets[i] = new IntCountsHistogram(2);
        }
    }

    /** Adds one sample taken at {@code nowMillis}. */
    public void record(long nowMillis, long micros) {
        if (micros < 0) {
            throw new IllegalArgumentException("micros: " + micros + " (expected: >= 0)");
        }
        synchronized (this) {
            buckets[roll(nowMillis)].recordValue(Math.min(micros, MAX_MICROS));
            recorded++;
        }
    }

    /** Quantiles of the samples in the window at {@code nowMillis}; {@link LatencyStats#EMPTY} without any. */
    public LatencyStats stats(long nowMillis) {
        Cached c = cached;
        if (Math.floorDiv(nowMillis, bucketMillis) <= c.bucket
                && (c.recorded == recorded || nowMillis - c.computedAtMillis < refreshMillis && !c.stats.isEmpty())) {
            return c.stats;
        }
        return merge(nowMillis);
    }

    private synchronized LatencyStats merge(long nowMillis) {
        roll(nowMillis);
        merged.reset();
        for (IntCountsHistogram h : buckets) {
            if (h.getTotalCount() > 0) {
                merged.add(h);
            }
        }
        long count = merged.getTotalCount();
        LatencyStats stats = count == 0 ? LatencyStats.EMPTY : new LatencyStats(count,
                merged.getValueAtPercentile(50), merged.getValueAtPercentile(90), merged.getValueAtPercentile(99));
        cached = new Cached(head, nowMillis, recorded, stats);
        return stats;
    }

    /** Moves the window to {@code nowMillis} (never back), emptying buckets that fell out; returns the newest bucket's slot. */
    private int roll(long nowMillis) {
        long index = Math.floorDiv(nowMillis, bucketMillis);
        int n = buckets.length;
        if (head == Long.MIN_VALUE) {
            head = index;
        } else if (index > head) {
            for (long i = head + 1, last = Math.min(index, head + n); i <= last; i++) {
                buckets[(int) Math.floorMod(i, (long) n)].reset();
            }
            head = index;
        }
        return (int) Math.floorMod(head, (long) n);
    }
}
