package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public enum CircuitState { CLOSED, HALF_OPEN, OPEN }
