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
 * @param learning       the learning settings (docs/routing.md)
 * @param circuit        circuit breaker settings
 * @param latencyWindow  how far back the latency quantiles of {@code :fast} look
 * @param strategies     strategy name → its settings (scalars as text)
 */
public record RoutingConfig(
        @Nullable Path pluginsDir,
        int maxAttempts,
        @Nullable Long seed,
        Learning learning,
        Circuit circuit,
        Duration latencyWindow,
        Map<String, Map<String, String>> strategies) {

    /** The defaults: every setting as if {@code routing} were left out. */
    public static final RoutingConfig DEFAULTS = new RoutingConfig(
            Path.of("./ext"), 3, null, Learning.DEFAULTS, Circuit.DEFAULTS, Duration.ofSeconds(60), Map.of());

    public RoutingConfig {
        Map<String, Map<String, String>> copy = new TreeMap<>();
        strategies.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
        strategies = java.util.Collections.unmodifiableMap(copy);
    }

    /** The same settings with another plugins folder (from {@code --plugins-dir} or {@code BR_PLUGINS_DIR}). */
    public RoutingConfig withPluginsDir(@Nullable Path dir) {
        return new RoutingConfig(dir, maxAttempts, seed, learning, circuit, latencyWindow, strategies);
    }

    /**
     * {@code routing.learning} (docs/routing.md).
     *
     * @param discount       γ of the beliefs' updates, in (0, 1]; 1 forgets nothing
     * @param feedbackWeight how much one {@code /v1/feedback} verdict counts against one scored answer
     * @param sharedWeight   the shared belief counts in a tenant's view as at most this many answers
     * @param tenantCap      one tenant's automatic outcomes count in the shared belief as at most this many answers
     * @param shift          the change detector's smallest quality change worth detecting, in (0, 1)
     * @param threshold      its log-likelihood threshold (> 0); higher: fewer false alarms, later detection
     * @param minEvidence    answers a belief needs before its detector runs
     * @param reexplore      share of requests on which a dropped candidate is ranked as unknown, in [0, 1)
     */
    public record Learning(
            double discount,
            double feedbackWeight,
            double sharedWeight,
            double tenantCap,
            double shift,
            double threshold,
            double minEvidence,
            double reexplore) {
        public static final Learning DEFAULTS = new Learning(1, 2, 20, 200, 0.2, 12, 10, 0.02);
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
