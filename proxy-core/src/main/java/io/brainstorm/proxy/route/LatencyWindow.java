package io.brainstorm.proxy.route;

import io.brainstorm.proxy.concurrent.ThreadLanes;
import io.brainstorm.proxy.spi.LatencyStats;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.IntCountsHistogram;
import org.jspecify.annotations.Nullable;

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
 * <p><b>Threading.</b> {@link #record} runs on the event loops, several at once, and never waits
 * for another writer or a reader, and never drops a sample: each writing thread appends to its
 * own lane (chunks of {@value #CHUNK} samples, only that thread writes them), found in a small
 * copy-on-write array ({@link ThreadLanes}). The merge moves the lanes' samples into the buckets; it runs in
 * {@link #stats} (and in a {@link #record} that finds half a chunk waiting, which leaves the
 * cached result alone), at most one at a time, taken by a compare-and-set that is never waited
 * on: a {@link #stats} that finds a merge under way returns the cached result, a {@link #record}
 * leaves its samples for that merge or the next. A cache hit in {@link #stats} reads a few
 * volatile fields and never locks.
 */
public final class LatencyWindow {
    /** Latencies above this are recorded as this. */
    public static final long MAX_MICROS = Duration.ofHours(1).toNanos() / 1000;
    /** Samples per chunk of a lane; a writer with half a chunk waiting merges if no one else is. */
    static final int CHUNK = 256;

    private record Cached(long bucket, long computedAtMillis, long recorded, LatencyStats stats) {}

    /** A run of one lane's samples; the owner fills it, then links the next. */
    private static final class Chunk {
        final long[] times = new long[CHUNK];
        final long[] values = new long[CHUNK];
        /** Samples written, published by the owner (release) after each. */
        final AtomicInteger count = new AtomicInteger();
        /** Set by the owner once this chunk is full. */
        volatile @Nullable Chunk next;
        /** Merger only: samples of this chunk already in the buckets. */
        int taken;
    }

    /**
     * One writing thread's samples: chunks its owner appends to and the merger takes from, so the
     * owner never waits and never drops a sample; a chunk the merger has passed is garbage.
     */
    private static final class Lane implements ThreadLanes.Lane {
        final Thread owner;
        /** Owner only: the chunk being filled. */
        Chunk writing = new Chunk();
        /** Merger only: the oldest chunk not wholly taken. */
        Chunk reading = writing;
        /** Samples appended, published by the owner. */
        final AtomicLong appended = new AtomicLong();
        /** Samples taken into the buckets, published by the merger. */
        final AtomicLong taken = new AtomicLong();

        Lane(Thread owner) {
            this.owner = owner;
        }

        @Override
        public Thread owner() {
            return owner;
        }

        /** Owner only: appends one sample; returns how many wait for a merge. */
        long append(long nowMillis, long micros) {
            Chunk c = writing;
            int i = c.count.get();
            if (i == CHUNK) {
                Chunk n = new Chunk();
                c.next = n;
                writing = n;
                c = n;
                i = 0;
            }
            c.times[i] = nowMillis;
            c.values[i] = micros;
            c.count.lazySet(i + 1);
            long a = appended.get() + 1;
            appended.lazySet(a);
            return a - taken.get();
        }
    }

    private final long bucketMillis;
    private final long refreshMillis;
    /** Merger only (under {@link #merging}). */
    private final IntCountsHistogram[] buckets;

    private final Histogram merged = new Histogram(2);
    private long head = Long.MIN_VALUE;
    private final AtomicBoolean merging = new AtomicBoolean();
    private final ThreadLanes<Lane> lanes = new ThreadLanes<>(new Lane[0], Lane::new);
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
        if (lanes.mine().append(nowMillis, Math.min(micros, MAX_MICROS)) >= CHUNK / 2) {
            tryTake();
        }
    }

    /** Quantiles of the samples in the window at {@code nowMillis}; {@link LatencyStats#EMPTY} without any. */
    public LatencyStats stats(long nowMillis) {
        Cached c = cached;
        if (Math.floorDiv(nowMillis, bucketMillis) <= c.bucket
                && (c.recorded == recorded() || nowMillis - c.computedAtMillis < refreshMillis && !c.stats.isEmpty())) {
            return c.stats;
        }
        LatencyStats fresh = tryMerge(nowMillis);
        // a merge under way on another thread: its result, or this one, is a moment away
        return fresh != null ? fresh : c.stats;
    }

    /** Samples recorded so far (appended to a lane), by every thread. */
    private long recorded() {
        long n = 0;
        for (Lane l : lanes.all()) {
            n += l.appended.get();
        }
        return n;
    }

    /**
     * Moves the lanes' samples into the buckets, if no other thread is merging; false if one is.
     * The cached result stays as it is: only {@link #stats} decides when it is refreshed.
     */
    private boolean tryTake() {
        if (!merging.compareAndSet(false, true)) {
            return false;
        }
        try {
            take();
            return true;
        } finally {
            merging.set(false);
        }
    }

    /** The merge, if no other thread is merging; null if one is. */
    private @Nullable LatencyStats tryMerge(long nowMillis) {
        if (!merging.compareAndSet(false, true)) {
            return null;
        }
        try {
            return merge(nowMillis);
        } finally {
            merging.set(false);
        }
    }

    /** Merger only: moves every lane's samples into the buckets; returns the samples recorded so far. */
    private long take() {
        long recorded = 0;
        for (Lane l : lanes.all()) {
            // what was appended before this read is in the chunks by now (the owner publishes after writing)
            long appended = l.appended.get();
            recorded += appended;
            Chunk c = l.reading;
            while (true) {
                int n = c.count.get();
                for (int i = c.taken; i < n; i++) {
                    add(c.times[i], c.values[i]);
                }
                l.taken.lazySet(l.taken.get() + n - c.taken);
                c.taken = n;
                Chunk next = c.next;
                if (n < CHUNK || next == null) {
                    break;
                }
                c = next;
            }
            l.reading = c;
        }
        return recorded;
    }

    private LatencyStats merge(long nowMillis) {
        long recorded = take();
        roll(nowMillis);
        merged.reset();
        for (IntCountsHistogram h : buckets) {
            if (h.getTotalCount() > 0) {
                merged.add(h);
            }
        }
        long count = merged.getTotalCount();
        LatencyStats stats = count == 0
                ? LatencyStats.EMPTY
                : LatencyStats.of(
                        count,
                        merged.getValueAtPercentile(50),
                        merged.getValueAtPercentile(90),
                        merged.getValueAtPercentile(99));
        cached = new Cached(head, nowMillis, recorded, stats);
        return stats;
    }

    /**
     * Puts one sample taken at {@code atMillis} in the newest bucket, moving the window to it first
     * (never back: a sample older than the newest bucket, from a clock that ran back or a lane merged
     * after another, counts in the newest).
     */
    private void add(long atMillis, long micros) {
        roll(atMillis);
        buckets[(int) Math.floorMod(head, (long) buckets.length)].recordValue(micros);
    }

    /** Moves the window to {@code nowMillis} (never back), emptying buckets that fell out. */
    private void roll(long nowMillis) {
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
    }
}
