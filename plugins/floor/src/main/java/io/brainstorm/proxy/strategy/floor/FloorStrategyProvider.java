package io.brainstorm.proxy.strategy.floor;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.TreeSet;

/**
 * The {@code :floor} variant (cheapest expected cost), found by {@link java.util.ServiceLoader}.
 * Takes no settings; any setting under {@code routing.strategies.floor} is refused as a likely typo.
 */
public final class FloorStrategyProvider implements RoutingStrategyProvider {
    @Override
    public String name() {
        return "floor";
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        if (!config.settings().isEmpty()) {
            throw new IllegalArgumentException("routing.strategies." + config.name() + ": unknown settings "
                    + new TreeSet<>(config.settings().keySet()) + " (expected: none, :floor has no settings)");
        }
        return new FloorStrategy();
    }
}
