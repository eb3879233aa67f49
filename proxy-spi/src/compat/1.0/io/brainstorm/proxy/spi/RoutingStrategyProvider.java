package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public interface RoutingStrategyProvider {
    String name();

    int spiVersion();

    RoutingStrategy create(StrategyConfig config);
}
