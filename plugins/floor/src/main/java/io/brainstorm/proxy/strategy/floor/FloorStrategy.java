package io.brainstorm.proxy.strategy.floor;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code :floor}: the endpoints in ascending order of expected cost for this request
 * ({@link Candidate#expectedCostNanoUsd}: estimated prompt tokens × input price + expected
 * completion tokens × output price), so the request's {@code max_tokens} can change the answer when
 * endpoints price input and output differently. Equal costs keep the configured order. Learnt
 * quality and latency play no part.
 *
 * <p><b>Threading.</b> Immutable; {@link #route} keeps everything in locals (two arrays of the
 * candidates' size), so any number of event loops may call it at once. Never blocks.
 */
public final class FloorStrategy implements RoutingStrategy {
    /** Low bits of a sort key that carry the candidate's index, so ties keep configured order. */
    static final int INDEX_BITS = 16;

    static final int MAX_CANDIDATES = 1 << INDEX_BITS;
    /** Costs above this (about $140,000) sort as equal; no request costs that much. */
    private static final long MAX_COST_KEY = Long.MAX_VALUE >>> INDEX_BITS;

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        int n = candidates.size();
        if (n > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates: " + n + " (expected: at most " + MAX_CANDIDATES + ")");
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            long cost = Math.min(candidates.get(i).expectedCostNanoUsd(request), MAX_COST_KEY);
            keys[i] = cost << INDEX_BITS | i;
        }
        Arrays.sort(keys);
        Candidate[] order = new Candidate[n];
        for (int i = 0; i < n; i++) {
            order[i] = candidates.get((int) (keys[i] & (MAX_CANDIDATES - 1)));
        }
        return RouteDecision.of(Arrays.asList(order), "cheapest: " + usd(keys[0] >>> INDEX_BITS) + " expected");
    }

    /** {@code $0.00041} for 410,000 nano-USD: exact, no trailing zeros. */
    static String usd(long nanoUsd) {
        StringBuilder sb = new StringBuilder(16).append('$').append(nanoUsd / 1_000_000_000L);
        long fraction = nanoUsd % 1_000_000_000L;
        if (fraction != 0) {
            String digits = Long.toString(1_000_000_000L + fraction); // "1" then nine digits with leading zeros
            int end = digits.length();
            while (digits.charAt(end - 1) == '0') {
                end--;
            }
            sb.append('.').append(digits, 1, end);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "floor";
    }
}
