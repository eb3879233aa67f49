package io.brainstorm.proxy.strategy.smart;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;

/**
 * The {@code :smart} variant (Thompson sampling over a model's endpoints), found by
 * {@link java.util.ServiceLoader}.
 *
 * <p>Settings under {@code routing.strategies.smart}, each a number ≥ 0:
 * <ul>
 *   <li>{@code cost_weight} (default 0.2): quality given up for the dearest endpoint's expected
 *       cost. At 0.2 an endpoint at half the price of another wins unless the other answers well
 *       10 points more often.</li>
 *   <li>{@code latency_weight} (default 0.1): quality given up for the slowest endpoint's median
 *       latency; lower than the cost weight because the model, and so the answer, is the same on
 *       every endpoint, and a slower good answer still beats a quick bad one.</li>
 * </ul>
 */
public final class SmartStrategyProvider implements RoutingStrategyProvider {
    /** cost_weight 0.2, latency_weight 0.1. */
    public static final ThompsonSettings DEFAULTS = new ThompsonSettings(0.2, 0.1);

    @Override
    public String name() {
        return "smart";
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        ThompsonSettings s = ThompsonSettings.from(config, DEFAULTS);
        return new SmartStrategy(s.costWeight(), s.latencyWeight());
    }
}
