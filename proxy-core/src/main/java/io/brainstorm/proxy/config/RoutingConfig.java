package io.brainstorm.proxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The {@code routing} section of {@code brainstorm.yaml}: plugins, failover, learning, circuit
 * breakers and each strategy's settings (docs/architecture.md §5, §7).
 *
 * @param pluginsDir     folder whose top-level {@code *.jar} files are loaded as strategy plugins
 * @param maxAttempts    endpoints tried per request, the first included
 * @param seed           seed of the routing decisions' random numbers; null: chosen at start and logged
 * @param discount       γ of the learning state's discounted updates, in (0, 1]
 * @param feedbackWeight how much one {@code /v1/feedback} verdict counts against one scored answer
 * @param circuit        circuit breaker settings
 * @param latencyWindow  how far back the latency quantiles of {@code :fast} look
 * @param strategies     strategy name → its settings (scalars as text)
 */
public record RoutingConfig(
        @Nullable Path pluginsDir,
        int maxAttempts,
        @Nullable Long seed,
        double discount,
        double feedbackWeight,
        Circuit circuit,
        Duration latencyWindow,
        Map<String, Map<String, String>> strategies) {

    /** The defaults: every setting as if {@code routing} were left out. */
    public static final RoutingConfig DEFAULTS =
            new RoutingConfig(Path.of("./ext"), 3, null, 0.995, 2, Circuit.DEFAULTS, Duration.ofSeconds(60), Map.of());

    public RoutingConfig {
        Map<String, Map<String, String>> copy = new TreeMap<>();
        strategies.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
        strategies = java.util.Collections.unmodifiableMap(copy);
    }

    /** The same settings with another plugins folder (from {@code --plugins-dir} or {@code BR_PLUGINS_DIR}). */
    public RoutingConfig withPluginsDir(@Nullable Path dir) {
        return new RoutingConfig(dir, maxAttempts, seed, discount, feedbackWeight, circuit, latencyWindow, strategies);
    }

    /**
     * Circuit breaker settings.
     *
     * @param window         how far back failures count
     * @param minRequests    attempts in the window before the error rate can open the circuit
     * @param failureRate    share of failed attempts that opens it (0..1]
     * @param openBase       first open time; doubles on each failed probe. Also how long a provider
     *                       key that got a 401/403 is tried last on that endpoint
     * @param openMax        the longest open time
     * @param halfOpenProbes attempts let through at once while half-open
     * @param maxCoolDown    cap on a 429's {@code Retry-After} (it cools the key that got it)
     */
    public record Circuit(
            Duration window,
            int minRequests,
            double failureRate,
            Duration openBase,
            Duration openMax,
            int halfOpenProbes,
            Duration maxCoolDown) {
        public static final Circuit DEFAULTS = new Circuit(
                Duration.ofSeconds(30),
                10,
                0.5,
                Duration.ofSeconds(5),
                Duration.ofMinutes(5),
                3,
                Duration.ofMinutes(5));
    }
}
