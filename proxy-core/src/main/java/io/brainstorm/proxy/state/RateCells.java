package io.brainstorm.proxy.state;

/**
 * The arithmetic of one key's rate window, on its flat {@code long[]} form: epoch minute, requests
 * and tokens counted in that minute ({@value #LENGTH} longs). The counts include the shares
 * processes leased ({@link RateLease}).
 */
final class RateCells {
    static final int LENGTH = 3;
    private static final long MINUTE = 60_000;

    private RateCells() {}

    /** The epoch minute of {@code nowMillis}. */
    static long minute(long nowMillis) {
        return Math.floorDiv(nowMillis, MINUTE);
    }

    /** Whether the cells count epoch minute {@code minute}. */
    static boolean isMinute(long[] c, long minute) {
        return c[0] == minute + 1;
    }

    static long requests(long[] c) {
        return c[1];
    }

    static long tokens(long[] c) {
        return c[2];
    }

    /** Adds {@code requests} and {@code tokens} (either may be negative) to the counts, never below 0. */
    static void adjust(long[] c, long requests, long tokens) {
        c[1] = Math.max(0, c[1] + requests);
        c[2] = Math.max(0, c[2] + tokens);
    }

    /** See {@link RateWindows#tryAcquire}. */
    static long tryAcquire(long[] c, long nowMillis, int rpm, long tokens, long tpm) {
        long minute = minute(nowMillis);
        // minute + 1 so that the epoch's first minute differs from an absent entry
        if (!isMinute(c, minute)) {
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
