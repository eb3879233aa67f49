package io.brainstorm.proxy.spi;

import java.util.Map;

/**
 * A strategy's settings: the scalar values under {@code routing.strategies.<name>} in
 * {@code brainstorm.yaml}, as strings. Immutable; made by {@link #of} or {@link #empty}.
 */
public final class StrategyConfig {

    private final String name;
    private final Map<String, String> settings;

    private StrategyConfig(String name, Map<String, String> settings) {
        this.name = name;
        this.settings = Map.copyOf(settings);
    }

    /**
     * @param name     the strategy's name
     * @param settings setting name → value; empty when the configuration has none
     */
    public static StrategyConfig of(String name, Map<String, String> settings) {
        return new StrategyConfig(name, settings);
    }

    /** A strategy with no settings. */
    public static StrategyConfig empty(String name) {
        return new StrategyConfig(name, Map.of());
    }

    /** The strategy's name. */
    public String name() {
        return name;
    }

    /** Setting name → value; empty when the configuration has none. */
    public Map<String, String> settings() {
        return settings;
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
        throw new IllegalArgumentException(
                "routing.strategies." + name + "." + key + ": " + v + " (expected: a number)");
    }

    /** A text setting. */
    public String text(String key, String defaultValue) {
        return settings.getOrDefault(key, defaultValue);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StrategyConfig c && name.equals(c.name) && settings.equals(c.settings);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + settings.hashCode();
    }

    @Override
    public String toString() {
        return "StrategyConfig[name=" + name + ", settings=" + settings + "]";
    }
}
