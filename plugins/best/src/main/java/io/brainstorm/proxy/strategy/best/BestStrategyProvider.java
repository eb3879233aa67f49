package io.brainstorm.proxy.strategy.best;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.TreeSet;

/**
 * The {@code :best} variant (highest learnt quality; ties go to the cheaper), found by
 * {@link java.util.ServiceLoader}. Takes no settings; any setting under
 * {@code routing.strategies.best} is refused as a likely typo.
 */
public final class BestStrategyProvider implements RoutingStrategyProvider {
    @Override
    public String name() {
        return "best";
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        if (!config.settings().isEmpty()) {
            throw new IllegalArgumentException("routing.strategies." + config.name() + ": unknown settings "
                    + new TreeSet<>(config.settings().keySet()) + " (expected: none, :best has no settings)");
        }
        return new BestStrategy();
    }
}
