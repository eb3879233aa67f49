package io.brainstorm.proxy.strategy.fast;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code :fast} variant (lowest observed latency), found by {@link java.util.ServiceLoader}.
 *
 * <p>Settings under {@code routing.strategies.fast}:
 * <ul>
 *   <li>{@code quantile}: {@code p50} (default), {@code p90} or {@code p99}, the latency compared;</li>
 *   <li>{@code warmup_samples}: samples an endpoint needs before its latency counts (default
 *       {@value #DEFAULT_WARMUP_SAMPLES}); until then it is tried first so it gets measured.</li>
 * </ul>
 */
public final class FastStrategyProvider implements RoutingStrategyProvider {
    static final long DEFAULT_WARMUP_SAMPLES = 5;
    private static final Set<String> SETTINGS = Set.of("quantile", "warmup_samples");

    @Override
    public String name() {
        return "fast";
    }

    @Override
    public int spiVersion() {
        return SpiVersion.MAJOR;
    }

    @Override
    public RoutingStrategy create(StrategyConfig config) {
        String prefix = "routing.strategies." + config.name() + ".";
        for (String key : new TreeSet<>(config.settings().keySet())) {
            if (!SETTINGS.contains(key)) {
                throw new IllegalArgumentException(
                        prefix + key + ": unknown setting (expected: quantile, warmup_samples)");
            }
        }
        String q = config.text("quantile", "p50").trim();
        FastStrategy.Quantile quantile = switch (q) {
            case "p50" -> FastStrategy.Quantile.P50;
            case "p90" -> FastStrategy.Quantile.P90;
            case "p99" -> FastStrategy.Quantile.P99;
            default -> throw new IllegalArgumentException(prefix + "quantile: " + q + " (expected: p50, p90 or p99)");
        };
        double warmup = config.number("warmup_samples", DEFAULT_WARMUP_SAMPLES);
        if (warmup < 0 || warmup != Math.rint(warmup) || warmup > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(prefix + "warmup_samples: " + config.text("warmup_samples", "")
                    + " (expected: a whole number >= 0)");
        }
        return new FastStrategy(quantile, (long) warmup);
    }
}
