package io.brainstorm.proxy.settle.audit;

/**
 * Records not written for one reason, since the last gap record of that reason: how many and the
 * span of their times, for the gap record that will note them.
 *
 * <p><b>Threading.</b> The writer thread's.
 */
final class Loss {
    private long count;
    private long from = Long.MAX_VALUE;
    private long to = Long.MIN_VALUE;

    void add(long n, long first, long last) {
        count += n;
        from = Math.min(from, first);
        to = Math.max(to, last);
    }

    long count() {
        return count;
    }

    AuditFormat.Gap gap(String reason) {
        return new AuditFormat.Gap(count, reason, from == Long.MAX_VALUE ? -1 : from, to == Long.MIN_VALUE ? -1 : to);
    }

    void clear() {
        count = 0;
        from = Long.MAX_VALUE;
        to = Long.MIN_VALUE;
    }
}
