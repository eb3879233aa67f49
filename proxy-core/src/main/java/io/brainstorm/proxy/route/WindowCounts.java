package io.brainstorm.proxy.route;

/**
 * Outcome counts (all, failed) over a sliding time window kept in buckets: the breaker's error
 * rate and the attempt counts of {@link EndpointHealth}.
 *
 * <p>The window is cut into buckets of {@code window / buckets} ms (at least 1 ms) aligned to the
 * epoch, and counts the newest bucket, which holds {@code now}, plus as many older ones as fit in
 * {@code window}. So an outcome older than {@code window} never counts, and one younger than
 * {@code window} minus two buckets always does; in between it drops out when its bucket does.
 * A {@code now} earlier than one already seen counts in the newest bucket: time never runs backwards here.
 *
 * <p><b>Threading:</b> not thread-safe; its owner guards it.
 */
final class WindowCounts {
    private final long bucketMillis;
    private final long[] all;
    private final long[] failed;
    private long head = Long.MIN_VALUE;
    private long allTotal;
    private long failedTotal;

    WindowCounts(long windowMillis, int buckets) {
        this.bucketMillis = Math.max(1, windowMillis / buckets);
        int n = (int) (windowMillis / bucketMillis);
        this.all = new long[n];
        this.failed = new long[n];
    }

    void add(long nowMillis, boolean failure) {
        int slot = roll(nowMillis);
        all[slot]++;
        allTotal++;
        if (failure) {
            failed[slot]++;
            failedTotal++;
        }
    }

    long all(long nowMillis) {
        roll(nowMillis);
        return allTotal;
    }

    long failed(long nowMillis) {
        roll(nowMillis);
        return failedTotal;
    }

    void clear() {
        java.util.Arrays.fill(all, 0);
        java.util.Arrays.fill(failed, 0);
        allTotal = 0;
        failedTotal = 0;
    }

    /** Moves the window to {@code nowMillis}, emptying the buckets that fell out; returns the newest bucket's slot. */
    private int roll(long nowMillis) {
        long index = Math.floorDiv(nowMillis, bucketMillis);
        int n = all.length;
        if (head == Long.MIN_VALUE) {
            head = index;
        } else if (index > head) {
            if (index - head >= n) {
                clear();
            } else {
                for (long i = head + 1; i <= index; i++) {
                    int s = (int) Math.floorMod(i, (long) n);
                    allTotal -= all[s];
                    failedTotal -= failed[s];
                    all[s] = 0;
                    failed[s] = 0;
                }
            }
            head = index;
        }
        return (int) Math.floorMod(head, (long) n);
    }
}
