package io.brainstorm.proxy.state;

/**
 * The arithmetic of one key's rate window, on its flat {@code long[]} form: epoch minute, requests
 * and tokens counted in that minute ({@value #LENGTH} longs).
 */
final class RateCells {
    static final int LENGTH = 3;
    private static final long MINUTE = 60_000;

    private RateCells() {}

    /** See {@link RateWindows#tryAcquire}. */
    static long tryAcquire(long[] c, long nowMillis, int rpm, long tokens, long tpm) {
        long minute = Math.floorDiv(nowMillis, MINUTE);
        // minute + 1 so that the epoch's first minute differs from an absent entry
        if (c[0] != minute + 1) {
            c[0] = minute + 1;
            c[1] = 0;
            c[2] = 0;
        }
        boolean rpmFull = rpm > 0 && c[1] + 1 > rpm;
        boolean tpmFull = tpm > 0 && c[2] > 0 && c[2] + tokens > tpm;
        if (rpmFull || tpmFull) {
            return (minute + 1) * MINUTE - nowMillis;
        }
        c[1] += 1;
        c[2] += tokens;
        return 0;
    }
}
