package io.brainstorm.proxy.spi;

import java.util.Map;

/**
 * A strategy's settings: the scalar values under {@code routing.strategies.<name>} in
 * {@code brainstorm.yaml}, as strings.
 *
 * @param name     the strategy's name
 * @param settings setting name → value; empty when the configuration has none
 */
public record StrategyConfig(String name, Map<String, String> settings) {

    public StrategyConfig {
        settings = Map.copyOf(settings);
    }

    /** A strategy with no settings. */
    public static StrategyConfig empty(String name) {
        return new StrategyConfig(name, Map.of());
    }

    /**
     * A number setting.
     *
     * @throws IllegalArgumentException when the value is not a finite number
     */
    public double number(String key, double defaultValue) {
        String v = settings.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("routing.strategies." + name + "." + key + ": " + v
                + " (expected: a number)");
    }

    /** A text setting. */
    public String text(String key, String defaultValue) {
        return settings.getOrDefault(key, defaultValue);
    }
}
