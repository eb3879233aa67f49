package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.concurrent.ThreadLanes;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.jspecify.annotations.Nullable;

/**
 * A histogram of values recorded by several threads (the event loops) where no writer ever waits
 * for another or for the reader: each writing thread records into its own HdrHistogram
 * {@link SingleWriterRecorder} (its lane), and the reader takes each lane's interval histogram and
 * adds them up ({@link #drainInto}).
 *
 * <p>Why not one shared recorder or a concurrent histogram: a {@code Recorder} shared by several
 * writers, or a {@code PackedConcurrentHistogram}, makes writers and the reader wait for each
 * other (the reader yield-spins until writers leave, a packed array's writer spins while another
 * resizes it). With the gateway on one CPU, two event loops recording into one packed concurrent
 * histogram spun against each other forever and the gateway stopped answering.
 *
 * <p><b>Threading.</b> {@link #record} may run on any thread; it finds the thread's lane in a
 * small copy-on-write array ({@link ThreadLanes}) (one lane per thread that ever recorded: the event loops, in tests a
 * few more) and records wait-free. A thread's first record adds its lane by compare-and-set, which
 * never waits either. {@link #drainInto} is for one reader at a time (the caller serializes
 * readers) and skips lanes that recorded nothing since the last drain; for the others it waits,
 * sleeping, only for a writer that is inside its own {@code recordValue}, which never waits for
 * anything, so the wait is bounded and no writer ever waits for the reader.
 */
public final class WriterHistograms {
    /** One writing thread's recorder, and the reader's recycled interval of it. */
    private static final class Lane implements ThreadLanes.Lane {
        final Thread owner;
        final SingleWriterRecorder recorder;
        /** Values recorded, published by the owner after each. */
        final AtomicLong recorded = new AtomicLong();
        /** Reader only: {@link #recorded} at the last drain. */
        long drained;
        /** Reader only. */
        @Nullable
        Histogram interval;

        Lane(Thread owner, int digits) {
            this.owner = owner;
            this.recorder = new SingleWriterRecorder(digits);
        }

        @Override
        public Thread owner() {
            return owner;
        }
    }

    private final ThreadLanes<Lane> lanes;

    /** @param digits significant decimal digits of each lane's histograms (0..5) */
    public WriterHistograms(int digits) {
        if (digits < 0 || digits > 5) {
            throw new IllegalArgumentException("digits: " + digits + " (expected: 0..5)");
        }
        this.lanes = new ThreadLanes<>(new Lane[0], owner -> new Lane(owner, digits));
    }

    /** Records {@code value} (at least 0) in the calling thread's lane. */
    public void record(long value) {
        Lane l = lanes.mine();
        l.recorder.recordValue(value);
        l.recorded.lazySet(l.recorded.get() + 1);
    }

    /**
     * Adds every value recorded since the last call into {@code into}. One reader at a time.
     *
     * @return how many values were added
     */
    public long drainInto(Histogram into) {
        long added = 0;
        for (Lane l : lanes.all()) {
            long recorded = l.recorded.get();
            if (recorded == l.drained) {
                // nothing new (a value being recorded now is taken by a later drain): no flip, which
                // would wait for that writer to leave its recordValue
                continue;
            }
            l.drained = recorded;
            l.interval = l.recorder.getIntervalHistogram(l.interval);
            long n = l.interval.getTotalCount();
            if (n > 0) {
                into.add(l.interval);
                added += n;
            }
        }
        return added;
    }

    /** Threads that have recorded here. */
    public int lanes() {
        return lanes.all().length;
    }
}
