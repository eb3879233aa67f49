package com.example.brainstorm.sticky;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Keeps each user on the same endpoint, so that a provider's prompt cache and its rate-limit
 * window stay with that user: the request's {@code user} field names the user, else its tenant
 * (see {@link Fallback}).
 *
 * <p>Rendezvous (highest random weight) hashing: every candidate gets a weight from a hash of
 * (user, candidate id), and the candidates are tried by decreasing weight. A user therefore stays
 * on the same endpoint while the candidate set is the same, in whatever order the candidates come,
 * across restarts and across gateway processes. When an endpoint leaves (its circuit opens, its
 * key is removed), only the users whose first choice it was move, each to their own second
 * choice, which was already their failover; the others stay put. Users spread evenly over the
 * endpoints.
 *
 * <p><b>Threading.</b> Immutable and allocation-light; safe on every event loop at once. No
 * randomness: the order is a function of the request and the candidates.
 */
public final class StickyStrategy implements RoutingStrategy {

    /** What keys a request without a {@code user}: setting {@code fallback}. */
    public enum Fallback {
        /** stick by tenant: all of a tenant's anonymous requests go to one endpoint (the default) */
        TENANT,
        /** not sticky: the candidates in configured order */
        CONFIGURED,
        /** not sticky: cheapest expected cost first */
        CHEAPEST;

        /**
         * @throws IllegalArgumentException naming the setting when its value is none of the above
         */
        static Fallback parse(StrategyConfig config) {
            String value = config.text("fallback", "tenant");
            for (Fallback f : values()) {
                if (f.name().equalsIgnoreCase(value.trim())) {
                    return f;
                }
            }
            throw new IllegalArgumentException("routing.strategies." + config.name() + ".fallback: " + value
                    + " (expected: tenant, configured or cheapest)");
        }
    }

    private final Fallback fallback;

    public StickyStrategy(Fallback fallback) {
        this.fallback = fallback;
    }

    @Override
    public RouteDecision route(RouteRequest request, List<Candidate> candidates, RandomGenerator random) {
        if (!request.user().isEmpty()) {
            return RouteDecision.of(rank(request.user(), candidates), "sticky by user");
        }
        return switch (fallback) {
            case TENANT -> RouteDecision.of(rank(request.tenant(), candidates), "sticky by tenant (no user)");
            case CONFIGURED -> RouteDecision.of(candidates, "configured order (no user)");
            case CHEAPEST -> {
                List<Candidate> byCost = new ArrayList<>(candidates);
                byCost.sort(Comparator.comparingLong(
                        c -> c.expectedCostNanoUsd(request))); // stable: ties keep configured order
                yield RouteDecision.of(byCost, "cheapest first (no user)");
            }
        };
    }

    /** The candidates by decreasing rendezvous weight for {@code key}; ties (never in practice) by id. */
    static List<Candidate> rank(String key, List<Candidate> candidates) {
        long keyHash = hash(key);
        int n = candidates.size();
        long[] weights = new long[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            weights[i] = mix(keyHash ^ mix(hash(candidates.get(i).id())));
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int byWeight = Long.compare(weights[b], weights[a]);
            return byWeight != 0
                    ? byWeight
                    : candidates.get(a).id().compareTo(candidates.get(b).id());
        });
        List<Candidate> ranked = new ArrayList<>(n);
        for (Integer i : order) {
            ranked.add(candidates.get(i));
        }
        return ranked;
    }

    /** 64-bit FNV-1a over the chars: the same in every JVM, unlike identity hashes or seeded maps. */
    private static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: spreads FNV's weak low bits over the whole word. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
