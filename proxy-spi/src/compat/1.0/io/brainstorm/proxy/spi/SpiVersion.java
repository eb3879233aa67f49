package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures and the version constants a plugin compiles in. */
public final class SpiVersion {
    public static final int MAJOR = 1;
    public static final int MINOR = 0;

    private SpiVersion() { throw null; }
}
