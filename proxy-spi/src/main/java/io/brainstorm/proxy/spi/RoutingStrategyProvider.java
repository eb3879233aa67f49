package io.brainstorm.proxy.spi;

/**
 * The entry point of a routing strategy plugin, found by {@link java.util.ServiceLoader}: list the
 * implementing class in {@code META-INF/services/io.brainstorm.proxy.spi.RoutingStrategyProvider}.
 *
 * <p>The gateway creates one strategy per provider at start and routes every request whose model
 * carries the provider's {@link #name()} as its variant suffix ({@code sim/alpha:my-router})
 * through it.
 *
 * <p><b>Versions.</b> {@link #spiVersion()} must return {@link SpiVersion#MAJOR} as compiled into
 * the plugin ({@code return SpiVersion.MAJOR;}, a constant the compiler copies into the plugin's
 * class): the gateway refuses a provider whose major version differs from its own, and says so by
 * name at start instead of failing on the first request.
 */
public interface RoutingStrategyProvider {

    /**
     * The variant suffix that selects this strategy: 1 to 32 characters of {@code a-z}, {@code 0-9}
     * and {@code -}, starting with a letter. Names of built-in strategies ({@code floor},
     * {@code fast}, {@code best}, {@code smart}, {@code auto}) and {@code direct}, {@code nitro},
     * {@code free} and {@code online} are taken.
     */
    String name();

    /** The SPI major version this provider was compiled against: {@code return SpiVersion.MAJOR;}. */
    int spiVersion();

    /**
     * Makes the strategy, once, at start.
     *
     * @param config the settings under {@code routing.strategies.<name>} in {@code brainstorm.yaml}
     * @throws IllegalArgumentException when a setting is invalid; the message names it, and the
     *                                  gateway reports it and leaves this strategy out
     */
    RoutingStrategy create(StrategyConfig config);
}
