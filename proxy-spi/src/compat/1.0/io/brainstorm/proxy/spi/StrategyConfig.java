package io.brainstorm.proxy.spi;

import java.util.Map;

/** SPI 1.0's surface, frozen: signatures only. */
public final class StrategyConfig {
    private StrategyConfig() { throw null; }

    public static StrategyConfig of(String name, Map<String, String> settings) { throw null; }
    public static StrategyConfig empty(String name) { throw null; }
    public String name() { throw null; }
    public Map<String, String> settings() { throw null; }
    public double number(String key, double defaultValue) { throw null; }
    public String text(String key, String defaultValue) { throw null; }
}
