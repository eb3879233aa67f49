package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.LatencyStats;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.IntCountsHistogram;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

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
 * for another writer or a reader: each writing thread appends its samples to its own bounded
 * single-writer lane (a ring of time and value), found in a small copy-on-write array. The merge
 * moves the lanes' samples into the buckets; it runs in {@link #stats} (and in a {@link #record}
 * that finds its lane half full, which leaves the cached result alone), at most one at a time, taken by a compare-and-set that never
 * waits: a {@link #stats} that finds a merge under way returns the cached result, and a
 * {@link #record} whose lane is full while another thread merges drops its sample (the window is
 * a sample of recent latency, and a lane holds {@value #LANE} samples). A cache hit in
 * {@link #stats} reads a few volatile fields and never locks.
 */
public final class LatencyWindow {
    /** Latencies above this are recorded as this. */
    public static final long MAX_MICROS = Duration.ofHours(1).toNanos() / 1000;
    /** Samples one thread's lane holds until a merge takes them. */
    static final int LANE = 256;

    private record Cached(long bucket, long computedAtMillis, long recorded, LatencyStats stats) {
    }

    /**
     * One writing thread's samples: a ring its owner appends to ({@code tail}) and the merger takes
     * from ({@code head}); each side publishes its counter with release semantics.
     */
    private static final class Lane {
        final Thread owner;
        final long[] times = new long[LANE];
        final long[] values = new long[LANE];
        /** Written by the owner only. */
        final AtomicLong tail = new AtomicLong();
        /** Written by the merger only (one at a time). */
        final AtomicLong head = new AtomicLong();

        Lane(Thread owner) {
            this.owner = owner;
        }

        /** Owner only: false when the ring is full. */
        boolean offer(long nowMillis, long micros) {
            long t = tail.get();
            if (t - head.get() >= LANE) {
                return false;
            }
            int i = (int) (t & (LANE - 1));
            times[i] = nowMillis;
            values[i] = micros;
            tail.lazySet(t + 1);
            return true;
        }

        /** Owner only: whether a merge is due soon. */
        boolean halfFull() {
            return tail.get() - head.get() >= LANE / 2;
        }
    }

    private static final VarHandle LANES;

    static {
        try {
            LANES = MethodHandles.lookup().findVarHandle(LatencyWindow.class, "lanes", Lane[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long bucketMillis;
    private final long refreshMillis;
    /** Merger only (under {@link #merging}). */
    private final IntCountsHistogram[] buckets;
    private final Histogram merged = new Histogram(2);
    private long head = Long.MIN_VALUE;
    private final AtomicBoolean merging = new AtomicBoolean();
    @SuppressWarnings("unused") // through LANES
    private volatile Lane[] lanes = new Lane[0];
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
        long value = Math.min(micros, MAX_MICROS);
        Lane lane = lane();
        if (lane.offer(nowMillis, value)) {
            if (lane.halfFull()) {
                tryTake();
            }
        } else if (tryTake()) {
            lane.offer(nowMillis, value);
        }
        // else: full while another thread merges; the sample is dropped rather than waiting
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
        for (Lane l : lanes) {
            n += l.tail.get();
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
    private LatencyStats tryMerge(long nowMillis) {
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
        for (Lane l : lanes) {
            long t = l.tail.get();
            recorded += t;
            for (long i = l.head.get(); i < t; i++) {
                int slot = (int) (i & (LANE - 1));
                add(l.times[slot], l.values[slot]);
            }
            l.head.lazySet(t);
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
        LatencyStats stats = count == 0 ? LatencyStats.EMPTY : new LatencyStats(count,
                merged.getValueAtPercentile(50), merged.getValueAtPercentile(90), merged.getValueAtPercentile(99));
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

    private Lane lane() {
        Thread me = Thread.currentThread();
        for (Lane l : lanes) {
            if (l.owner == me) {
                return l;
            }
        }
        Lane mine = new Lane(me);
        while (true) {
            Lane[] now = lanes;
            Lane[] next = Arrays.copyOf(now, now.length + 1);
            next[now.length] = mine;
            // a failed swap means another thread added its lane meanwhile: retry on the new array
            if (LANES.compareAndSet(this, now, next)) {
                return mine;
            }
        }
    }
}
