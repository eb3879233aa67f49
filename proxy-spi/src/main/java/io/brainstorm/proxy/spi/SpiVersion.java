package io.brainstorm.proxy.spi;

/**
 * The version of the plugin API. The core refuses a strategy provider whose major version
 * differs from {@link #MAJOR}; minor versions only add.
 */
public final class SpiVersion {
    /** Breaking changes bump this. */
    public static final int MAJOR = 1;
    /** Additions bump this. */
    public static final int MINOR = 0;

    private SpiVersion() {
    }
}
