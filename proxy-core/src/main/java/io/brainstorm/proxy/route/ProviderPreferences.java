package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.Candidate;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * OpenRouter's {@code provider} request field: which provider accounts to try, in which order.
 *
 * @param order          endpoint (provider account) names to try first, in this order
 * @param allowFallbacks false: only the endpoints in {@code order} are tried
 * @param sort           {@code price}, {@code latency} or {@code throughput}: choose the cheapest
 *                       ({@code :floor}) or the fastest ({@code :fast}) when the model has no variant; or null
 */
public record ProviderPreferences(
        List<String> order,
        boolean allowFallbacks,
        @Nullable String sort) {
    /** No preferences. */
    public static final ProviderPreferences NONE = new ProviderPreferences(List.of(), true, null);

    public ProviderPreferences {
        order = List.copyOf(order);
    }

    /** Moves endpoints named in {@code provider.order} to the front, in that order. */
    List<Candidate> front(List<Candidate> ranked) {
        if (order.isEmpty()) {
            return ranked;
        }
        List<Candidate> out = new ArrayList<>(ranked.size());
        for (String name : order) {
            for (Candidate c : ranked) {
                if (c.endpoint().equals(name) && !out.contains(c)) {
                    out.add(c);
                }
            }
        }
        for (Candidate c : ranked) {
            if (!out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }
}
