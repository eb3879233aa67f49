package io.brainstorm.proxy.strategy.auto;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.strategy.smart.ThompsonSettings;

/**
 * The {@code auto} model (Thompson sampling over every eligible model's endpoints), found by
 * {@link java.util.ServiceLoader}.
 *
 * <p>Settings under {@code routing.strategies.auto}, each a number ≥ 0:
 * <ul>
 *   <li>{@code cost_weight} (default 0.1): quality given up per tenfold price over the cheapest
 *       candidate. At 0.1 a model ten times the price must answer well 10 points more often to be
 *       preferred, one a hundred times the price 20 points.</li>
 *   <li>{@code latency_weight} (default 0.1): quality given up for the slowest candidate's median
 *       latency, as for {@code :smart}.</li>
 * </ul>
 */
public final class AutoStrategyProvider implements RoutingStrategyProvider {
    /** cost_weight 0.1 per decade, latency_weight 0.1. */
    public static final ThompsonSettings DEFAULTS = new ThompsonSettings(0.1, 0.1);

    @Override
    public String name() {
        return "auto";
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        ThompsonSettings s = ThompsonSettings.from(config, DEFAULTS);
        return new AutoStrategy(s.costWeight(), s.latencyWeight());
    }
}
