package io.brainstorm.proxy.spi;

/**
 * The version of the plugin API. The core refuses a strategy provider whose major version
 * differs from {@link #MAJOR}; minor versions only add (see the package doc for what that allows).
 */
public final class SpiVersion {
    /** Breaking changes bump this. */
    public static final int MAJOR = 1;
    /**
     * Additions bump this; each released minor version's surface is frozen under
     * {@code proxy-spi/src/compat/<major>.<minor>/} and checked by {@code SpiCompatibilityTest}.
     */
    public static final int MINOR = 0;

    private SpiVersion() {}
}
