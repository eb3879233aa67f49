package io.brainstorm.proxy.route;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Enumeration;

/**
 * The class loader of one third-party strategy jar from the plugins folder (docs/architecture.md §5): the jar's
 * own classes, the JDK's platform modules, and the gateway's plugin API, nothing else.
 * {@link StrategyRegistry} makes one per jar.
 *
 * <p><b>What a plugin sees.</b> Classes and resources under {@code io/brainstorm/proxy/spi/} always
 * come from the gateway's class loader, so the plugin's {@code RoutingStrategyProvider} is the
 * gateway's, even if the jar bundles a copy of the SPI. Everything else is looked up in the
 * platform class loader (the JDK) first, then in the jar. The gateway's own classes and its
 * libraries (Netty, Jackson, …) are not visible: a plugin cannot call into the gateway's internals,
 * and it can bundle another version of such a library without clashing with the gateway's. A plugin
 * that needs a library must bundle it in its jar.
 *
 * <p><b>Threading.</b> Registered as parallel capable, so concurrent loads lock per class name. In
 * practice the registry creates and uses these loaders on one thread at start; afterwards the
 * plugin's strategy may load further classes of its jar lazily from any event loop, which the
 * JDK's per-name locking covers. {@link #close()} (from {@link StrategyRegistry#close()}) is meant
 * for shutdown, after the last request: classes not loaded by then can no longer be.
 */
final class PluginClassLoader extends URLClassLoader {
    /** The one package shared with plugins, as a class-name prefix. */
    static final String SPI_PACKAGE = "io.brainstorm.proxy.spi.";
    /** The same package, as a resource-name prefix. */
    static final String SPI_RESOURCES = "io/brainstorm/proxy/spi/";

    static {
        ClassLoader.registerAsParallelCapable();
    }

    private final ClassLoader spiLoader;

    /**
     * @param jar       the plugin jar
     * @param spiLoader the class loader that defines the gateway's {@code io.brainstorm.proxy.spi} types
     */
    PluginClassLoader(Path jar, ClassLoader spiLoader) {
        super("plugin:" + jar.getFileName(), new URL[] {toUrl(jar)}, ClassLoader.getPlatformClassLoader());
        this.spiLoader = spiLoader;
    }

    private static URL toUrl(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("plugin jar: " + jar + " (expected: a file path)", e);
        }
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith(SPI_PACKAGE)) {
            return spiLoader.loadClass(name);
        }
        return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
        if (name.startsWith(SPI_RESOURCES)) {
            return spiLoader.getResource(name);
        }
        return super.getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        if (name.startsWith(SPI_RESOURCES)) {
            return spiLoader.getResources(name);
        }
        return super.getResources(name);
    }
}
