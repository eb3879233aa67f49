package com.example.brainstorm.sticky;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;

/**
 * The plugin's entry point, listed in
 * {@code META-INF/services/io.brainstorm.proxy.spi.RoutingStrategyProvider}: the strategy
 * {@code sticky}, selected by a model name such as {@code sim/alpha:sticky}.
 *
 * <p>Setting, under {@code routing.strategies.sticky} in {@code brainstorm.yaml}:
 * {@code fallback}, what keys a request that has no {@code user}: {@code tenant} (the default: it
 * sticks by tenant), {@code configured} (configured order, not sticky) or {@code cheapest}
 * (cheapest expected cost first, not sticky).
 */
public final class StickyStrategyProvider implements RoutingStrategyProvider {
    public static final String NAME = "sticky";

    /** ServiceLoader needs a public no-argument constructor. */
    public StickyStrategyProvider() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int spiVersion() {
        // a compile-time constant: the gateway compares the SPI this plugin was built against with its own
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        return new StickyStrategy(StickyStrategy.Fallback.parse(config));
    }
}
