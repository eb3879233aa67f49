package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The routing strategies the gateway can route through, by name (the variant suffix in
 * {@code sim/alpha:<name>}): the built-in ones and those of plugin jars (docs/architecture.md §5).
 * Made once at start by {@link #load}; the router looks strategies up by name.
 *
 * <p><b>Where they come from.</b> Built-in providers are found by {@link ServiceLoader} in the
 * gateway's own class loader. Then every top-level {@code *.jar} in the plugins folder, in file
 * name order, gets its own {@link PluginClassLoader}, which shares only the SPI package with the
 * gateway, and its providers are found by {@code ServiceLoader} in that loader. Each provider's
 * {@link RoutingStrategyProvider#create create} is called once with its settings from
 * {@code routing.strategies.<name>}.
 *
 * <p><b>Errors.</b> Nothing a plugin does stops the gateway from starting. A provider is left out,
 * with one line in {@link #problems()} naming the jar and the provider class, when: its SPI major
 * version differs from {@link SpiVersion#MAJOR}; its class is missing or does not load (a
 * {@link ServiceConfigurationError} or {@link LinkageError}); {@code name()}, {@code spiVersion()}
 * or {@code create()} throws, or {@code create()} returns null; its name is not valid per
 * {@link RoutingStrategyProvider#name()} or is reserved; or a strategy of that name is already
 * loaded (built-ins load first, so a built-in wins). A jar that is not readable or holds no
 * provider is reported too, as are settings for a strategy that is not loaded. Each problem is
 * logged at {@code WARNING}, each loaded strategy at {@code INFO}.
 *
 * <p><b>Threading.</b> {@link #load} runs once, on the thread that starts the gateway; it calls into
 * plugin code with that thread's context class loader set to the plugin's loader. The registry is
 * immutable afterwards and safe to read from every event loop. {@link #close()} is for shutdown.
 */
public final class StrategyRegistry implements AutoCloseable {
    private static final System.Logger log = System.getLogger(StrategyRegistry.class.getName());

    /** Where {@link PluginInfo#source()} says a provider came from when it is not from a jar. */
    public static final String BUILT_IN = "built-in";

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    /** Variant suffixes that mean something else (docs/architecture.md §3): never a strategy's name. */
    private static final Set<String> RESERVED = Set.of("direct", "nitro", "free", "online");
    /** The built-in strategies' names: a plugin jar may not take them, even when a build lacks one. */
    private static final Set<String> BUILT_IN_NAMES = Set.of("floor", "fast", "best", "smart", "auto");

    private static final String SERVICE_FILE = "META-INF/services/" + RoutingStrategyProvider.class.getName();

    /**
     * A loaded strategy's provenance, for logs and the admin read-out.
     *
     * @param name       the strategy's name
     * @param source     {@value #BUILT_IN}, or the file name of the jar it came from
     * @param className  the provider's class
     * @param spiVersion the SPI major version the provider was built for
     */
    public record PluginInfo(String name, String source, String className, int spiVersion) {}

    private final Map<String, RoutingStrategy> strategies;
    private final Set<String> names;
    private final List<PluginInfo> plugins;
    private final List<String> problems;
    private final List<PluginClassLoader> loaders;
    private boolean closed;

    private StrategyRegistry(Loading loading) {
        this.strategies = Map.copyOf(loading.strategies);
        this.names = Collections.unmodifiableSet(new TreeSet<>(loading.strategies.keySet()));
        this.plugins = List.copyOf(loading.plugins.values());
        this.problems = List.copyOf(loading.problems);
        this.loaders = List.copyOf(loading.loaders);
    }

    /**
     * Loads built-in providers from {@code builtIns} (ServiceLoader) and every top-level
     * {@code *.jar} in {@code pluginsDir} through one {@link PluginClassLoader} per jar.
     *
     * @param builtIns   the class loader whose {@code META-INF/services} lists the built-in providers
     * @param pluginsDir the plugins folder; null or missing means no plugin jars
     * @param configs    strategy name → its settings; strategies without an entry get no settings
     */
    public static StrategyRegistry load(
            ClassLoader builtIns, @Nullable Path pluginsDir, Map<String, StrategyConfig> configs) {
        Loading loading = new Loading(configs);
        loading.loadAll(BUILT_IN, null, ServiceLoader.load(RoutingStrategyProvider.class, builtIns), builtIns);
        for (Path jar : jars(pluginsDir, loading)) {
            loading.loadJar(jar);
        }
        for (String name : new TreeSet<>(configs.keySet())) {
            // a provider that was offered but refused has its problem line already
            if (!loading.offered.contains(name)) {
                loading.problem("routing.strategies." + name + ": settings for a strategy that is not loaded"
                        + " (loaded: " + String.join(", ", new TreeSet<>(loading.strategies.keySet())) + "); ignored");
            }
        }
        return new StrategyRegistry(loading);
    }

    /** A registry of the given strategies, as if built in: for tests and benchmarks that script routing. */
    static StrategyRegistry of(Map<String, RoutingStrategy> strategies) {
        Loading loading = new Loading(Map.of());
        loading.strategies.putAll(strategies);
        strategies.forEach((name, s) -> loading.plugins.put(
                name,
                new PluginInfo(name, BUILT_IN, s.getClass().getName(), io.brainstorm.proxy.spi.SpiVersion.MAJOR)));
        return new StrategyRegistry(loading);
    }

    /** The strategy of that name, if one is loaded. */
    public Optional<RoutingStrategy> strategy(String name) {
        return Optional.ofNullable(strategies.get(name));
    }

    /** The names of the loaded strategies, sorted. */
    public Set<String> names() {
        return names;
    }

    /** The loaded strategies' provenance: built-ins first, then plugin jars in file name order. */
    public List<PluginInfo> plugins() {
        return plugins;
    }

    /** One line per provider or jar left out, and per setting for a strategy that is not loaded. */
    public List<String> problems() {
        return problems;
    }

    /**
     * Closes the plugin jars' class loaders. Call it at shutdown, after the last request: a plugin
     * strategy cannot load classes it has not loaded yet once its loader is closed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PluginClassLoader loader : loaders) {
            closeQuietly(loader);
        }
    }

    private static List<Path> jars(@Nullable Path pluginsDir, Loading loading) {
        if (pluginsDir == null || !Files.exists(pluginsDir)) {
            log.log(Level.DEBUG, "plugins folder {0}: none, so no plugin jars", pluginsDir);
            return List.of();
        }
        if (!Files.isDirectory(pluginsDir)) {
            loading.problem("plugins folder " + pluginsDir + ": not a folder; no plugin jars loaded");
            return List.of();
        }
        try (Stream<Path> files = Files.list(pluginsDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        } catch (IOException | RuntimeException e) {
            loading.problem("plugins folder " + pluginsDir + ": cannot list it (" + e + "); no plugin jars loaded");
            return List.of();
        }
    }

    private static void closeQuietly(PluginClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            log.log(Level.WARNING, "closing plugin class loader " + loader.getName() + " failed", e);
        }
    }

    /** The state of one {@link #load} call. */
    private static final class Loading {
        private final Map<String, StrategyConfig> configs;
        private final Map<String, RoutingStrategy> strategies = new HashMap<>();
        /** name → provenance, in load order */
        private final Map<String, PluginInfo> plugins = new LinkedHashMap<>();

        private final List<String> problems = new ArrayList<>();
        private final List<PluginClassLoader> loaders = new ArrayList<>();
        /** the names providers gave, loaded or not */
        private final Set<String> offered = new HashSet<>();

        Loading(Map<String, StrategyConfig> configs) {
            this.configs = Map.copyOf(configs);
        }

        void problem(String line) {
            problems.add(line);
            log.log(Level.WARNING, line);
        }

        void loadJar(Path jar) {
            String where = "plugin " + jar;
            try (JarFile file = new JarFile(jar.toFile())) {
                if (file.getEntry(SERVICE_FILE) == null) {
                    problem(where + ": no routing strategy provider in it (expected: the provider class listed in "
                            + SERVICE_FILE + ")");
                    return;
                }
            } catch (IOException | RuntimeException e) {
                problem(where + ": not a readable jar (" + e + ")");
                return;
            }
            PluginClassLoader loader = new PluginClassLoader(jar, RoutingStrategyProvider.class.getClassLoader());
            int loaded = loadAll(
                    jar.getFileName().toString(),
                    jar,
                    ServiceLoader.load(RoutingStrategyProvider.class, loader),
                    loader);
            if (loaded > 0) {
                loaders.add(loader);
            } else {
                closeQuietly(loader);
            }
        }

        /**
         * Loads every provider {@code providers} finds; {@code jar} is null for built-ins.
         *
         * @return how many strategies were added
         */
        int loadAll(
                String source,
                @Nullable Path jar,
                ServiceLoader<RoutingStrategyProvider> providers,
                ClassLoader context) {
            String where = jar == null ? "built-in strategies" : "plugin " + jar;
            int found = 0;
            int loaded = 0;
            Iterator<RoutingStrategyProvider> it = providers.iterator();
            // ServiceLoader's iterator recovers from a broken entry and moves on to the next; the bound
            // only guards against one that would fail for ever.
            for (int failures = 0; failures < 100; ) {
                RoutingStrategyProvider provider;
                Thread thread = Thread.currentThread();
                ClassLoader previous = thread.getContextClassLoader();
                thread.setContextClassLoader(context);
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    provider = it.next();
                } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                    failures++;
                    found++;
                    problem(where + ": a provider did not load: " + describe(e) + "; left out");
                    continue;
                } finally {
                    thread.setContextClassLoader(previous);
                }
                found++;
                if (add(source, where, provider, context)) {
                    loaded++;
                }
            }
            if (found == 0 && jar != null) {
                problem(where + ": no routing strategy provider in it (expected: the provider class listed in "
                        + SERVICE_FILE + ")");
            }
            return loaded;
        }

        /** Checks and creates one provider's strategy; reports why not when it does not. */
        private boolean add(String source, String where, RoutingStrategyProvider provider, ClassLoader context) {
            String className = provider.getClass().getName();
            String who = where + ": provider " + className;
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(context);
            try {
                String name;
                int spiVersion;
                try {
                    name = provider.name();
                    spiVersion = provider.spiVersion();
                } catch (LinkageError | RuntimeException e) {
                    problem(who + " failed to say its name or SPI version: " + describe(e) + "; left out");
                    return false;
                }
                if (name != null) {
                    offered.add(name);
                    who += " (name '" + name + "')";
                }
                if (spiVersion != SpiVersion.MAJOR) {
                    problem(who + " was built for SPI " + spiVersion + "; this gateway has SPI " + SpiVersion.MAJOR
                            + " — rebuild it against proxy-spi " + SpiVersion.MAJOR + ".x; left out");
                    return false;
                }
                String invalid = invalidName(name, source);
                if (invalid != null) {
                    problem(who + ": " + invalid + "; left out");
                    return false;
                }
                PluginInfo taken = plugins.get(name);
                if (taken != null) {
                    problem(who + ": the name is taken by " + describe(taken) + "; left out");
                    return false;
                }
                StrategyConfig config = configs.containsKey(name)
                        ? StrategyConfig.of(name, configs.get(name).settings())
                        : StrategyConfig.empty(name);
                RoutingStrategy strategy;
                try {
                    strategy = provider.create(config);
                } catch (LinkageError | RuntimeException e) {
                    problem(who + " failed to create its strategy: " + describe(e) + "; left out");
                    return false;
                }
                if (strategy == null) {
                    problem(who + " created no strategy (create returned null); left out");
                    return false;
                }
                PluginInfo info = new PluginInfo(name, source, className, spiVersion);
                strategies.put(name, strategy);
                plugins.put(name, info);
                log.log(Level.INFO, "routing strategy ''{0}'' loaded: {1}", name, describe(info));
                return true;
            } finally {
                thread.setContextClassLoader(previous);
            }
        }

        /** Why {@code name} cannot be a strategy's name, or null when it can. */
        private static @Nullable String invalidName(String name, String source) {
            if (name == null || !NAME.matcher(name).matches()) {
                return "not a strategy name (expected: 1 to 32 characters of a-z, 0-9 and '-',"
                        + " starting with a letter)";
            }
            if (RESERVED.contains(name)) {
                return "the name is reserved (" + String.join(", ", new TreeSet<>(RESERVED)) + " are not strategies)";
            }
            if (!BUILT_IN.equals(source) && BUILT_IN_NAMES.contains(name)) {
                return "the name is reserved for the built-in strategy of that name";
            }
            return null;
        }

        private static String describe(PluginInfo info) {
            String from = BUILT_IN.equals(info.source()) ? "the built-in " : "the plugin " + info.source() + ", ";
            return from + info.className() + " (SPI " + info.spiVersion() + ")";
        }

        /** The exception and its causes, on one line. */
        private static String describe(Throwable e) {
            StringBuilder sb = new StringBuilder(e.toString());
            Throwable cause = e.getCause();
            for (int i = 0; cause != null && i < 5; i++, cause = cause.getCause()) {
                sb.append(", caused by ").append(cause);
            }
            return sb.toString();
        }
    }
}
