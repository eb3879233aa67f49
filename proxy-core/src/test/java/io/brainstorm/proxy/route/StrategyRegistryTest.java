package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.route.StrategyRegistry.PluginInfo;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads routing strategies the way the gateway does at start: built-ins from the class path, and
 * plugin jars that the tests build from source (the example module {@code plugins/example-sticky}
 * and small providers written here) into a plugins folder.
 */
class StrategyRegistryTest {
    private static final String STICKY_JAR = "strategy-example-sticky.jar";
    private static final String STICKY_PROVIDER = "com.example.brainstorm.sticky.StickyStrategyProvider";

    /** {@code create} body: a strategy that keeps the configured order. */
    private static final String IN_ORDER =
            "return (request, candidates, random) -> RouteDecision.of(candidates, \"\");";

    /** The example plugin's jar, built once from plugins/example-sticky. */
    private static Path stickyJar;

    @TempDir
    static Path shared;

    @TempDir
    Path root;

    private Path ext;
    private Path work;

    @BeforeAll
    static void buildTheExamplePlugin() throws IOException {
        Path module = Path.of(System.getProperty("basedir", "."))
                .resolve("../plugins/example-sticky")
                .normalize();
        assertTrue(Files.isDirectory(module.resolve("src/main/java")), "example plugin sources at " + module);
        Path work = Files.createDirectories(shared.resolve("work"));
        stickyJar = PluginJar.in(work)
                .sources(module.resolve("src/main/java"))
                .resources(module.resolve("src/main/resources"))
                .writeTo(shared.resolve(STICKY_JAR));
    }

    @BeforeEach
    void folders() throws IOException {
        ext = Files.createDirectories(root.resolve("ext"));
        work = Files.createDirectories(root.resolve("work"));
    }

    @Test
    void builtInsAreFoundOnTheGatewayClassPathAndGetTheirSettings() {
        Map<String, StrategyConfig> configs = Map.of(
                TestFirstStrategyProvider.NAME,
                StrategyConfig.of(TestFirstStrategyProvider.NAME, Map.of("reason", "from brainstorm.yaml")));
        try (StrategyRegistry registry = StrategyRegistry.load(getClass().getClassLoader(), null, configs)) {
            assertEquals(List.of(), registry.problems());
            assertTrue(
                    registry.plugins()
                            .contains(new PluginInfo(
                                    "test-first",
                                    "built-in",
                                    TestFirstStrategyProvider.class.getName(),
                                    SpiVersion.MAJOR)),
                    registry.plugins().toString());
            assertTrue(
                    registry.plugins().stream().allMatch(p -> p.source().equals("built-in")),
                    "no plugins folder, no plugins: " + registry.plugins());

            List<Candidate> candidates = candidates();
            RouteDecision d = registry.strategy("test-first")
                    .orElseThrow()
                    .route(request("alice"), candidates, new SplittableRandom(1));
            assertEquals(candidates, d.order());
            assertEquals("from brainstorm.yaml", d.reason());
            assertTrue(registry.strategy("sticky").isEmpty());
        }
    }

    @Test
    void aMissingPluginsFolderMeansNoPluginsAndNoProblem() {
        try (StrategyRegistry registry =
                StrategyRegistry.load(getClass().getClassLoader(), root.resolve("nowhere"), Map.of())) {
            assertEquals(List.of(), registry.problems());
            assertTrue(registry.names().contains("test-first"));
        }
    }

    @Test
    void theExamplePluginBuiltFromSourceKeepsEachUserOnOneEndpoint() throws Exception {
        Files.copy(stickyJar, ext.resolve(STICKY_JAR));
        try (StrategyRegistry registry =
                load(Map.of("sticky", StrategyConfig.of("sticky", Map.of("fallback", "tenant"))))) {
            assertEquals(List.of(), registry.problems());
            assertTrue(
                    registry.plugins()
                            .contains(new PluginInfo("sticky", STICKY_JAR, STICKY_PROVIDER, SpiVersion.MAJOR)),
                    registry.plugins().toString());
            assertTrue(
                    registry.names().containsAll(Set.of("sticky", "test-first")),
                    registry.names().toString());
            assertEquals(List.copyOf(new TreeSet<>(registry.names())), List.copyOf(registry.names()), "names sorted");

            RoutingStrategy sticky = registry.strategy("sticky").orElseThrow();
            List<Candidate> candidates = candidates();
            Set<String> firsts = new HashSet<>();
            for (int u = 0; u < 60; u++) {
                String user = "user-" + u;
                Candidate first = sticky.route(request(user), candidates, new SplittableRandom(u))
                        .first();
                for (int call = 0; call < 5; call++) {
                    RouteDecision again = sticky.route(request(user), candidates, new SplittableRandom(1000 + call));
                    assertEquals(first.id(), again.first().id(), user + ", call " + call);
                    assertEquals(candidates.size(), again.order().size(), "every candidate stays a failover");
                }
                firsts.add(first.id());
            }
            assertEquals(3, firsts.size(), "users spread over all three endpoints: " + firsts);
        }
    }

    @Test
    void aPluginSeesOnlyTheSpiAndTheJdkNotTheGateway() throws Exception {
        Files.copy(stickyJar, ext.resolve(STICKY_JAR));
        ClassLoader plugin;
        try (StrategyRegistry registry = load(Map.of())) {
            plugin = registry.strategy("sticky").orElseThrow().getClass().getClassLoader();
            assertNotSame(getClass().getClassLoader(), plugin);
            assertThrows(
                    ClassNotFoundException.class,
                    () -> Class.forName(STICKY_PROVIDER),
                    "the example plugin is not on the gateway's class path: it came from the jar");

            assertThrows(ClassNotFoundException.class, () -> plugin.loadClass("io.netty.channel.Channel"));
            assertThrows(ClassNotFoundException.class, () -> plugin.loadClass(Router.class.getName()));
            assertThrows(ClassNotFoundException.class, () -> plugin.loadClass(StrategyRegistry.class.getName()));
            assertNull(plugin.getResource("io/netty/channel/Channel.class"));
            assertNull(plugin.getResource("io/brainstorm/proxy/route/Router.class"));

            assertSame(
                    RoutingStrategyProvider.class,
                    plugin.loadClass(RoutingStrategyProvider.class.getName()),
                    "the SPI types are the gateway's own");
            assertNotNull(plugin.loadClass("java.sql.Connection"), "the JDK's platform modules are there");
            assertNotNull(plugin.getResource(PluginJar.SERVICE_FILE));
        }
        assertNull(plugin.getResource(PluginJar.SERVICE_FILE), "close() releases the jar");
    }

    @Test
    void aPluginThatBundlesItsOwnCopyOfTheSpiStillGetsTheGatewaysTypes() {
        PluginJar.in(work)
                .source(
                        "com.acme.bundled.BundledProvider",
                        provider(
                                "com.acme.bundled",
                                "BundledProvider",
                                "\"bundled\"",
                                "SpiVersion.MAJOR",
                                "return (request, candidates, random) -> RouteDecision.of(candidates, \"bundled\");"))
                .services("com.acme.bundled.BundledProvider")
                .bundle(PluginJar.spiClasses())
                .writeTo(ext.resolve("bundled.jar"));
        try (StrategyRegistry registry = load(Map.of())) {
            assertEquals(List.of(), registry.problems());
            RouteDecision d = registry.strategy("bundled")
                    .orElseThrow()
                    .route(request("alice"), candidates(), new SplittableRandom(0));
            assertEquals("bundled", d.reason());
        }
    }

    @Test
    void aPluginBuiltForAnotherSpiVersionIsRefusedByNameAndTheOthersLoad() throws IOException {
        Files.copy(stickyJar, ext.resolve(STICKY_JAR));
        PluginJar.in(work)
                .source(
                        "com.acme.future.FutureProvider",
                        provider("com.acme.future", "FutureProvider", "\"future\"", "SpiVersion.MAJOR + 1", IN_ORDER))
                .services("com.acme.future.FutureProvider")
                .writeTo(ext.resolve("future.jar"));
        try (StrategyRegistry registry = load(Map.of())) {
            int next = SpiVersion.MAJOR + 1;
            assertEquals(
                    List.of("plugin " + ext.resolve("future.jar") + ": provider com.acme.future.FutureProvider"
                            + " (name 'future') was built for SPI " + next + "; this gateway has SPI "
                            + SpiVersion.MAJOR
                            + " — rebuild it against proxy-spi " + SpiVersion.MAJOR + ".x; left out"),
                    registry.problems());
            assertTrue(registry.strategy("future").isEmpty());
            assertTrue(registry.strategy("sticky").isPresent());
            assertTrue(registry.strategy("test-first").isPresent());
        }
    }

    @Test
    void brokenJarsAreReportedByNameAndDoNotStopTheRest() throws IOException {
        Files.copy(stickyJar, ext.resolve(STICKY_JAR));
        // listed in META-INF/services, but the class is not in the jar
        PluginJar.in(work).services("com.acme.gone.GoneProvider").writeTo(ext.resolve("missing-class.jar"));
        jar(
                "throwing",
                "ThrowingProvider",
                "\"throwing\"",
                "throw new IllegalArgumentException(\"routing.strategies.throwing.level: 7 (expected: 0..3)\");");
        jar("badname", "BadNameProvider", "\"Bad_Name\"", IN_ORDER);
        jar("reserved", "ReservedProvider", "\"direct\"", IN_ORDER);
        jar("builtinname", "FloorProvider", "\"floor\"", IN_ORDER);
        jar("duplicate", "DuplicateProvider", "\"test-first\"", IN_ORDER);
        // uses a library the gateway has (Netty) but the plugin did not bundle
        PluginJar.in(work)
                .source(
                        "com.acme.netty.NettyProvider",
                        provider(
                                "com.acme.netty",
                                "NettyProvider",
                                "\"netty\"",
                                "SpiVersion.MAJOR",
                                "Object name = new io.netty.util.AsciiString(\"netty\");\n" + IN_ORDER))
                .compileAgainst(PluginJar.classesOf(AsciiString.class))
                .services("com.acme.netty.NettyProvider")
                .writeTo(ext.resolve("netty.jar"));
        PluginJar.in(work).entry("README.txt", "no provider here").writeTo(ext.resolve("empty.jar"));
        Files.writeString(ext.resolve("garbage.jar"), "this is not a zip file");
        Files.copy(stickyJar, ext.resolve("zz-sticky-again.jar"));
        Files.writeString(ext.resolve("notes.txt"), "not a jar: ignored");
        Files.copy(stickyJar, Files.createDirectories(ext.resolve("nested")).resolve("nested.jar"));

        try (StrategyRegistry registry = load(Map.of())) {
            List<String> problems = registry.problems();
            assertProblem(problems, "missing-class.jar", "com.acme.gone.GoneProvider", "not found");
            assertProblem(
                    problems,
                    "throwing.jar",
                    "com.acme.throwing.ThrowingProvider",
                    "failed to create its strategy: java.lang.IllegalArgumentException:"
                            + " routing.strategies.throwing.level: 7 (expected: 0..3)");
            assertProblem(
                    problems,
                    "badname.jar",
                    "com.acme.badname.BadNameProvider",
                    "(name 'Bad_Name'): not a strategy name (expected: 1 to 32 characters of a-z, 0-9 and '-'");
            assertProblem(
                    problems,
                    "reserved.jar",
                    "com.acme.reserved.ReservedProvider",
                    "(name 'direct'): the name is reserved");
            assertProblem(
                    problems,
                    "builtinname.jar",
                    "com.acme.builtinname.FloorProvider",
                    "(name 'floor'): the name is reserved for the built-in strategy of that name");
            assertProblem(
                    problems,
                    "duplicate.jar",
                    "com.acme.duplicate.DuplicateProvider",
                    "(name 'test-first'): the name is taken by the built-in "
                            + TestFirstStrategyProvider.class.getName());
            assertProblem(
                    problems,
                    "netty.jar",
                    "com.acme.netty.NettyProvider",
                    "java.lang.NoClassDefFoundError: io/netty/util/AsciiString");
            assertProblem(problems, "empty.jar", "", "no routing strategy provider in it");
            assertProblem(problems, "garbage.jar", "", "not a readable jar");
            assertProblem(
                    problems,
                    "zz-sticky-again.jar",
                    STICKY_PROVIDER,
                    "(name 'sticky'): the name is taken by the plugin " + STICKY_JAR + ", " + STICKY_PROVIDER);
            assertEquals(
                    10,
                    problems.size(),
                    "one line per broken jar, nothing for other files:\n" + String.join("\n", problems));

            assertTrue(
                    registry.names().containsAll(Set.of("sticky", "test-first")),
                    registry.names().toString());
            for (String refused : List.of("throwing", "Bad_Name", "direct", "netty")) {
                assertFalse(registry.names().contains(refused), refused);
            }
            assertEquals(
                    TestFirstStrategyProvider.class.getName(),
                    registry.plugins().stream()
                            .filter(p -> p.name().equals("test-first"))
                            .findFirst()
                            .orElseThrow()
                            .className());
            assertEquals(
                    getClass().getClassLoader(),
                    registry.strategy("test-first").orElseThrow().getClass().getClassLoader(),
                    "the built-in won");
            assertEquals(
                    STICKY_JAR,
                    registry.plugins().stream()
                            .filter(p -> p.name().equals("sticky"))
                            .findFirst()
                            .orElseThrow()
                            .source(),
                    "first jar by name won");
        }
    }

    @Test
    void badSettingsForAPluginAreReportedByThePluginAndItIsLeftOut() throws IOException {
        Files.copy(stickyJar, ext.resolve(STICKY_JAR));
        try (StrategyRegistry registry =
                load(Map.of("sticky", StrategyConfig.of("sticky", Map.of("fallback", "random"))))) {
            assertEquals(
                    List.of(
                            "plugin " + ext.resolve(STICKY_JAR) + ": provider " + STICKY_PROVIDER
                                    + " (name 'sticky') failed to create its strategy: java.lang.IllegalArgumentException:"
                                    + " routing.strategies.sticky.fallback: random (expected: tenant, configured or cheapest); left out"),
                    registry.problems());
            assertTrue(registry.strategy("sticky").isEmpty());
        }
    }

    @Test
    void settingsForAStrategyThatIsNotLoadedAreReportedNotFatal() {
        try (StrategyRegistry registry = load(Map.of("stikcy", StrategyConfig.of("stikcy", Map.of("fallback", "x"))))) {
            assertEquals(1, registry.problems().size(), registry.problems().toString());
            String line = registry.problems().get(0);
            assertTrue(
                    line.startsWith("routing.strategies.stikcy: settings for a strategy that is not loaded (loaded: "),
                    line);
            assertTrue(line.contains("test-first"), line);
            assertTrue(registry.strategy("test-first").isPresent());
        }
    }

    @Test
    void aPluginsPathThatIsAFileIsReported() throws IOException {
        Path file = Files.writeString(root.resolve("ext.jar"), "");
        try (StrategyRegistry registry = StrategyRegistry.load(getClass().getClassLoader(), file, Map.of())) {
            assertEquals(
                    List.of("plugins folder " + file + ": not a folder; no plugin jars loaded"), registry.problems());
            assertTrue(registry.strategy("test-first").isPresent());
        }
    }

    private StrategyRegistry load(Map<String, StrategyConfig> configs) {
        return StrategyRegistry.load(getClass().getClassLoader(), ext, configs);
    }

    /** A plugin jar {@code <pkg>.jar} with one provider, {@code com.acme.<pkg>.<simpleName>}. */
    private void jar(String pkg, String simpleName, String nameExpression, String createBody) {
        String className = "com.acme." + pkg + "." + simpleName;
        PluginJar.in(work)
                .source(
                        className,
                        provider("com.acme." + pkg, simpleName, nameExpression, "SpiVersion.MAJOR", createBody))
                .services(className)
                .writeTo(ext.resolve(pkg + ".jar"));
    }

    /** A provider's source. */
    private static String provider(
            String pkg, String simpleName, String nameExpression, String spiVersionExpression, String createBody) {
        return """
                package %s;

                import io.brainstorm.proxy.spi.*;

                public final class %s implements RoutingStrategyProvider {
                    public String name() { return %s; }
                    public int spiVersion() { return %s; }
                    public RoutingStrategy create(StrategyConfig config) {
                        %s
                    }
                }
                """.formatted(pkg, simpleName, nameExpression, spiVersionExpression, createBody);
    }

    /** Exactly one problem line names the jar, and it names the class and says why. */
    private static void assertProblem(List<String> problems, String jar, String className, String why) {
        List<String> lines =
                problems.stream().filter(l -> l.contains("/" + jar + ":")).toList();
        assertEquals(1, lines.size(), jar + " in:\n" + String.join("\n", problems));
        String line = lines.get(0);
        assertTrue(line.startsWith("plugin "), line);
        assertTrue(line.contains(className), className + " in: " + line);
        assertTrue(line.contains(why), "'" + why + "' in: " + line);
    }

    private static RouteRequest request(String user) {
        return RouteRequest.builder()
                .requestId("req-" + user)
                .tenant("default")
                .model("sim/alpha")
                .variant("sticky")
                .estimatedInputTokens(300)
                .user(user)
                .build();
    }

    /** sim/alpha's three simulated endpoints, with some history. */
    private static List<Candidate> candidates() {
        return List.of(
                candidate("sim-east", 2_500_000_000L, LatencyStats.of(120, 900_000, 1_400_000, 2_100_000), 40, 4),
                candidate("sim-west", 2_000_000_000L, LatencyStats.of(80, 1_300_000, 2_000_000, 3_500_000), 25, 6),
                candidate("sim-budget", 400_000_000L, LatencyStats.of(200, 2_400_000, 4_000_000, 9_000_000), 30, 20));
    }

    private static Candidate candidate(
            String endpoint, long inputPrice, LatencyStats latency, double alpha, double beta) {
        EndpointStats stats = EndpointStats.builder()
                .requests(latency.count())
                .errorRate(0.02)
                .latency(latency)
                .quality(alpha, beta)
                .build();
        return Candidate.builder()
                .endpoint(endpoint)
                .model("sim/alpha")
                .inputNanoUsdPerMillion(inputPrice)
                .outputNanoUsdPerMillion(4 * inputPrice)
                .capabilities(Set.of("tools", "json"))
                .contextLength(128_000)
                .maxOutputTokens(8_192)
                .stats(stats)
                .build();
    }
}
