package io.brainstorm.proxy.strategy.smart;

import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings of a Thompson-sampling strategy ({@code :smart}, {@code auto}) under
 * {@code routing.strategies.<name>}: {@code cost_weight} and {@code latency_weight}, each a
 * finite number ≥ 0.
 *
 * @param costWeight    quality given up for the whole cost share (see {@link ThompsonSampling.CostScale})
 * @param latencyWeight quality given up for the slowest candidate's median latency
 */
public record ThompsonSettings(double costWeight, double latencyWeight) {
    private static final Set<String> KEYS = Set.of("cost_weight", "latency_weight");

    /**
     * Reads the settings, with defaults for those missing.
     *
     * @throws IllegalArgumentException naming the setting that is unknown, not a number, or negative
     */
    public static ThompsonSettings from(StrategyConfig config, ThompsonSettings defaults) {
        for (String key : new TreeSet<>(config.settings().keySet())) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("routing.strategies." + config.name() + "." + key
                        + ": unknown setting (expected: cost_weight, latency_weight)");
            }
        }
        return new ThompsonSettings(
                weight(config, "cost_weight", defaults.costWeight),
                weight(config, "latency_weight", defaults.latencyWeight));
    }

    private static double weight(StrategyConfig config, String key, double defaultValue) {
        double w = config.number(key, defaultValue); // refuses NaN, infinities and words
        if (!(w >= 0)) {
            throw new IllegalArgumentException("routing.strategies." + config.name() + "." + key + ": "
                    + config.text(key, "").trim() + " (expected: >= 0)");
        }
        return w;
    }
}
