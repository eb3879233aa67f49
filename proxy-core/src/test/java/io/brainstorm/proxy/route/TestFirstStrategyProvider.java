package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;

/**
 * A built-in strategy for tests only, registered in the test class path's
 * {@code META-INF/services}: {@code test-first} keeps the configured order and gives the setting
 * {@code reason} as its reason, so a test sees that settings reach {@code create}.
 */
public final class TestFirstStrategyProvider implements RoutingStrategyProvider {
    public static final String NAME = "test-first";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        String reason = config.text("reason", "configured order");
        return (request, candidates, random) -> RouteDecision.of(candidates, reason);
    }
}
