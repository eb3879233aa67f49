package io.brainstorm.proxy.state;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * This process's share of one key's current rate-window minute: requests and tokens taken from the
 * entry in one update and added there to the minute's counts, so other processes count them as
 * used, from which requests are then counted on the heap without touching the entry
 * (docs/architecture.md §6).
 *
 * <p>A share is taken only under the limits it was taken for and only for its minute: a request
 * under other limits, or in another minute, goes to the entry. An unlimited dimension (rpm or tpm
 * {@code <= 0}) has no share: what the process counts in it is added to the entry when the share
 * goes back ({@link #giveBack}).
 *
 * <p><b>Threading:</b> counting a request is one compare-and-set of an immutable {@link Share}
 * (lock-free; no thread ever waits for another). A share is granted and given back only inside the
 * key's entry update ({@link #grant}, {@link #giveBack}), so the entry and the share agree under
 * the entry's lock; {@link #retired} is set there too.
 */
final class RateLease {
    /**
     * What the lease holds: for {@code minute} (epoch minute) under {@code rpm}/{@code tpm}, the
     * requests and tokens granted (0 in an unlimited dimension) and those counted so far.
     */
    record Share(long minute, int rpm, long tpm, long requests, long tokens, long usedRequests, long usedTokens) {
        static final Share NONE = new Share(Long.MIN_VALUE, 0, 0, 0, 0, 0, 0);

        /** This share with one more request of {@code t} tokens, or null when it does not cover it. */
        @org.jspecify.annotations.Nullable
        Share take(long m, int r, long t, long tp) {
            if (m != minute || r != rpm || tp != tpm) {
                return null;
            }
            if ((rpm > 0 && usedRequests >= requests) || (tpm > 0 && t > tokens - usedTokens)) {
                return null;
            }
            return new Share(minute, rpm, tpm, requests, tokens, usedRequests + 1, usedTokens + t);
        }
    }

    final String keyId;
    private volatile Share share = Share.NONE;
    volatile long lastUsedNanos = System.nanoTime();
    /** Set inside the entry's update once the lease leaves the windows' map; it takes no share after. */
    volatile boolean retired;

    private static final VarHandle SHARE_HANDLE;

    static {
        try {
            SHARE_HANDLE = MethodHandles.lookup().findVarHandle(RateLease.class, "share", Share.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    RateLease(String keyId) {
        this.keyId = keyId;
    }

    Share share() {
        return share;
    }

    /**
     * Counts one request of {@code tokens} against the share if it covers it (same minute, same
     * limits, room left).
     *
     * @return whether it was counted
     */
    boolean tryTake(long minute, int rpm, long tokens, long tpm) {
        while (true) {
            Share s = share;
            Share next = s.take(minute, rpm, tokens, tpm);
            if (next == null) {
                return false;
            }
            if (SHARE_HANDLE.compareAndSet(this, s, next)) {
                lastUsedNanos = System.nanoTime();
                return true;
            }
        }
    }

    /**
     * Gives the share back to the entry {@code c} (call only inside its update): when the entry
     * still counts the share's minute, its unused requests and tokens leave the counts and what was
     * counted in an unlimited dimension joins them. A share of a past minute simply lapses.
     */
    void giveBack(long[] c) {
        Share s = (Share) SHARE_HANDLE.getAndSet(this, Share.NONE);
        if (s != Share.NONE && RateCells.isMinute(c, s.minute)) {
            RateCells.adjust(c, s.usedRequests - s.requests, s.usedTokens - s.tokens);
        }
    }

    /**
     * After the entry {@code c} granted a request of {@code tokens} in {@code minute} (call only
     * inside its update, after {@link #giveBack}), takes a share of what the minute has left if it
     * covers at least {@value BudgetLease#MIN_REQUESTS} such requests, and adds it to the entry's counts.
     */
    void grant(long[] c, long minute, int rpm, long tokens, long tpm) {
        long requests = 0;
        long shareTokens = 0;
        if (rpm > 0) {
            requests = size(1, rpm - RateCells.requests(c));
            if (requests == 0) {
                return;
            }
        }
        if (tpm > 0) {
            shareTokens = size(Math.max(1, tokens), tpm - RateCells.tokens(c));
            if (shareTokens == 0) {
                return;
            }
        }
        RateCells.adjust(c, requests, shareTokens);
        share = new Share(minute, rpm, tpm, requests, shareTokens, 0, 0);
    }

    /**
     * How much of {@code left} to take for requests of {@code unit} each: the budget lease's rule,
     * up to {@value BudgetLease#MAX_REQUESTS} of them and 1/{@value BudgetLease#SHARE} of what is
     * left, only if that covers {@value BudgetLease#MIN_REQUESTS}; 0 for none.
     */
    static long size(long unit, long left) {
        return BudgetLease.size(unit, left);
    }
}
