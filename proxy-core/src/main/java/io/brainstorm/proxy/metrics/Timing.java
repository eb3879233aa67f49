package io.brainstorm.proxy.metrics;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * A duration histogram of one label set: written by event loops into a {@link WriterHistograms}
 * (wait-free), added into the cumulative counts of the fixed buckets ({@link #BOUNDS_MICROS}) at a
 * scrape ({@link #merge}), which {@link Metrics} writes as Prometheus' cumulative {@code _bucket}s.
 *
 * <p><b>Threading:</b> {@link #record} on any thread; the rest on the scraping thread only, one
 * scrape at a time ({@link Metrics#render()} is synchronized).
 */
final class Timing {
    private static final int DIGITS = 2;
    /** Bucket bounds of both duration histograms, in microseconds, and as written in {@code le}. */
    static final long[] BOUNDS_MICROS = {
        1_000,
        2_500,
        5_000,
        10_000,
        25_000,
        50_000,
        100_000,
        250_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
        10_000_000,
        30_000_000,
        60_000_000
    };

    static final String[] LE = {
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
        "+Inf"
    };

    final WriterHistograms recorder = new WriterHistograms(DIGITS);
    final LongAdder sumMicros = new LongAdder();
    final LongAdder recorded = new LongAdder();
    /** Scrape only: {@link #recorded} at the last merge. */
    private long merged;
    /** Scrape only: the values recorded since the last scrape, emptied at each. */
    private final Histogram interval = new Histogram(DIGITS);
    /** Scrape only: values since start in each bucket of {@link #LE} (not cumulative; the last is over 60 s). */
    private final long[] counts = new long[LE.length];

    void record(long micros) {
        long v = Math.max(0, micros);
        recorder.record(v);
        sumMicros.add(v);
        recorded.increment();
    }

    void merge() {
        long n = recorded.sum();
        if (n == merged) {
            // nothing new: taking an interval costs microseconds, and most label sets are idle
            return;
        }
        merged = n;
        interval.reset();
        if (recorder.drainInto(interval) == 0) {
            return;
        }
        for (HistogramIterationValue v : interval.recordedValues()) {
            long low = interval.lowestEquivalentValue(v.getValueIteratedTo());
            int i = 0;
            while (i < BOUNDS_MICROS.length && low > BOUNDS_MICROS[i]) {
                i++;
            }
            counts[i] += v.getCountAtValueIteratedTo();
        }
    }

    /**
     * Fills {@code buckets} with the cumulative count at each bound of {@link #LE} (the last,
     * {@code +Inf}, is every value) and returns the count.
     */
    long buckets(long[] buckets) {
        long total = 0;
        for (int i = 0; i < counts.length; i++) {
            total += counts[i];
            buckets[i] = total;
        }
        return total;
    }
}
