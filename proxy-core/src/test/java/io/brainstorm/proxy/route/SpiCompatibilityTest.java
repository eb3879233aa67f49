package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.Outcome;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.StrategyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A plugin built against an older minor version of the SPI keeps working: for every frozen surface
 * in {@code proxy-spi/src/compat/<version>/} (signatures only, never edited once released), the
 * current SPI still has each of its types and members with the same types, and a plugin compiled
 * against it loads through the gateway's plugin loader and routes against the current classes.
 */
class SpiCompatibilityTest {
    private static final String SPI_PACKAGE = "io.brainstorm.proxy.spi";

    @TempDir
    Path root;

    /** Every frozen version, e.g. {@code 1.0}. */
    static List<Path> frozenVersions() throws IOException {
        Path compat = Path.of(System.getProperty("basedir", "."))
                .resolve("../proxy-spi/src/compat")
                .normalize();
        try (Stream<Path> dirs = Files.list(compat)) {
            List<Path> versions = dirs.filter(Files::isDirectory).sorted().toList();
            assertTrue(
                    versions.stream().anyMatch(v -> v.getFileName().toString().equals("1.0")),
                    "the frozen SPI 1.0 under " + compat + ": " + versions);
            return versions;
        }
    }

    @ParameterizedTest
    @MethodSource("frozenVersions")
    void theCurrentSpiKeepsEverySignatureOfAFrozenVersion(Path version) throws Exception {
        Path frozen = compile(version, root.resolve("frozen"));
        try (URLClassLoader frozenTypes = isolated(frozen)) {
            assertEquals(
                    List.of(),
                    breaks(frozen, frozenTypes, getClass().getClassLoader()),
                    "what SPI " + version.getFileName() + " promised and the current SPI breaks");
        }
    }

    @Test
    void aRemovedAccessorAChangedReturnTypeAndANewAbstractMethodAreCaught() throws Exception {
        Path v10 = frozenVersions().stream()
                .filter(v -> v.getFileName().toString().equals("1.0"))
                .findFirst()
                .orElseThrow();
        Path frozen = compile(v10, root.resolve("frozen"));
        Path broken = copy(v10, root.resolve("broken-src"));
        edit(
                broken.resolve("io/brainstorm/proxy/spi/Candidate.java"),
                "public String model() { throw null; }",
                "public Object model() { throw null; }");
        edit(
                broken.resolve("io/brainstorm/proxy/spi/Candidate.java"),
                "public EndpointStats stats() { throw null; }",
                "");
        edit(
                broken.resolve("io/brainstorm/proxy/spi/RoutingStrategy.java"),
                "default void observe(Outcome outcome)",
                "void reset();\n\n    default void observe(Outcome outcome)");
        Path brokenClasses = compile(broken, root.resolve("broken"));
        try (URLClassLoader frozenTypes = isolated(frozen);
                URLClassLoader brokenTypes = isolated(brokenClasses)) {
            assertEquals(
                    List.of(
                            "io.brainstorm.proxy.spi.Candidate: method io.brainstorm.proxy.spi.EndpointStats stats() is missing"
                                    + " or changed",
                            "io.brainstorm.proxy.spi.Candidate: method java.lang.String model() is missing or changed",
                            "io.brainstorm.proxy.spi.RoutingStrategy: new abstract method void reset() breaks every"
                                    + " implementation"),
                    breaks(frozen, frozenTypes, brokenTypes));
        }
    }

    @ParameterizedTest
    @MethodSource("frozenVersions")
    void aPluginCompiledAgainstAFrozenVersionLoadsAndRoutes(Path version) throws Exception {
        Path frozen = compile(version, root.resolve("frozen"));
        Path ext = Files.createDirectories(root.resolve("ext"));
        PluginJar.in(Files.createDirectories(root.resolve("work")))
                .againstSpi(frozen)
                .source("com.acme.compat.CompatProvider", PLUGIN)
                .services("com.acme.compat.CompatProvider")
                .writeTo(ext.resolve("compat.jar"));

        try (StrategyRegistry registry = StrategyRegistry.load(
                getClass().getClassLoader(),
                ext,
                Map.of("compat", StrategyConfig.of("compat", Map.of("label", "old"))))) {
            assertEquals(List.of(), registry.problems());
            RoutingStrategy compat = registry.strategy("compat").orElseThrow();
            assertNotSame(getClass().getClassLoader(), compat.getClass().getClassLoader(), "loaded from the jar");

            EndpointStats stats = EndpointStats.builder()
                    .requests(40)
                    .errorRate(0.25)
                    .latency(LatencyStats.of(30, 900, 1_800, 2_700))
                    .ttft(LatencyStats.of(10, 100, 200, 300))
                    .quality(3, 1)
                    .circuit(CircuitState.HALF_OPEN)
                    .build();
            Candidate east = Candidate.builder()
                    .endpoint("sim-east")
                    .model("sim/alpha")
                    .inputNanoUsdPerMillion(2_000_000)
                    .outputNanoUsdPerMillion(4_000_000)
                    .capabilities(Set.of("json"))
                    .contextLength(128_000)
                    .maxOutputTokens(4_096)
                    .stats(stats)
                    .build();
            Candidate west =
                    Candidate.builder().endpoint("sim-west").model("sim/alpha").build();
            RouteRequest request =
                    RouteRequest.builder()
                            .requestId("req-7")
                            .tenant("acme")
                            .model("sim/alpha")
                            .variant("compat")
                            .stream(true)
                            .json(true)
                            .estimatedInputTokens(1_000_000)
                            .maxTokens(500_000)
                            .user("u-1")
                            .build();

            RouteDecision d = compat.route(request, List.of(east, west), new SplittableRandom(1));
            assertEquals(List.of(west, east), d.order(), "the plugin's order: the last candidate first");
            assertEquals(
                    "old 0.5 1 | req-7 acme sim/alpha compat json/32k+ true false true 1000000 500000 u-1"
                            + " | sim/alpha@sim-east sim-east sim/alpha 2000000 4000000 true false 128000 4096 500000 4000000"
                            + " 40 0.25 30 900 1800 2700 10 100 3.0 1.0 0.75 HALF_OPEN 100"
                            + " | sim/alpha@sim-west sim-west sim/alpha 0 0 false false 0 0 500000 0"
                            + " 0 0.0 0 0 0 0 0 0 1.0 1.0 0.5 CLOSED 0"
                            + " | 12 12 2 11 plain/0-1k 256 true | seen []",
                    d.reason());

            compat.observe(Outcome.builder()
                    .requestId("req-7")
                    .candidateId(west.id())
                    .endpoint("sim-west")
                    .model("sim/alpha")
                    .taskClass(request.taskClass())
                    .status(200)
                    .score(1)
                    .latencyMicros(5_000)
                    .ttftMicros(700)
                    .costNanoUsd(3)
                    .build());
            assertTrue(compat.route(request, List.of(east, west), new SplittableRandom(2))
                    .reason()
                    .endsWith(
                            "| seen [req-7 sim/alpha@sim-west sim-west sim/alpha json/32k+ 200 1.0 5000 700 3 true]"));
        }
    }

    /**
     * A plugin that reads every accessor, factory and constant of the SPI 1.0 surface, and says
     * what it read in its decision's reason; it routes the last candidate first.
     */
    private static final String PLUGIN = """
            package com.acme.compat;

            import io.brainstorm.proxy.spi.*;
            import java.util.*;
            import java.util.random.RandomGenerator;

            public final class CompatProvider implements RoutingStrategyProvider {
                public String name() { return "compat"; }
                public int spiVersion() { return SpiVersion.MAJOR; }

                public RoutingStrategy create(StrategyConfig config) {
                    String head = config.text("label", "none") + " " + config.number("weight", 0.5) + " "
                            + config.settings().size() + " " + StrategyConfig.empty("x").settings().size();
                    List<String> seen = Collections.synchronizedList(new ArrayList<>());
                    return new RoutingStrategy() {
                        public RouteDecision route(RouteRequest r, List<Candidate> candidates, RandomGenerator random) {
                            StringBuilder sb = new StringBuilder(head.substring(0, head.lastIndexOf(' ')));
                            sb.append(" | ").append(String.join(" ", r.requestId(), r.tenant(), r.model(), r.variant(),
                                    r.taskClass().key())).append(' ').append(r.stream()).append(' ').append(r.tools())
                                    .append(' ').append(r.json()).append(' ').append(r.estimatedInputTokens()).append(' ')
                                    .append(r.maxTokens()).append(' ').append(r.user());
                            for (Candidate c : candidates) {
                                EndpointStats s = c.stats();
                                LatencyStats l = s.latency();
                                sb.append(" | ").append(String.join(" ", c.id(), c.endpoint(), c.model())).append(' ')
                                        .append(c.inputNanoUsdPerMillion()).append(' ').append(c.outputNanoUsdPerMillion())
                                        .append(' ').append(c.capabilities().contains("json")).append(' ')
                                        .append(c.supports("tools")).append(' ').append(c.contextLength()).append(' ')
                                        .append(c.maxOutputTokens()).append(' ').append(c.expectedOutputTokens(r))
                                        .append(' ').append(c.expectedCostNanoUsd(r)).append(' ').append(s.requests())
                                        .append(' ').append(s.errorRate()).append(' ').append(l.count()).append(' ')
                                        .append(l.p50Micros()).append(' ').append(l.p90Micros()).append(' ')
                                        .append(l.p99Micros()).append(' ').append(s.ttft().count()).append(' ')
                                        .append(s.latencyFor(r.stream()).p50Micros()).append(' ').append(s.qualityAlpha())
                                        .append(' ').append(s.qualityBeta()).append(' ').append(s.qualityMean()).append(' ')
                                        .append(s.circuit().name()).append(' ').append(l.isEmpty() ? 0 : s.ttft().p50Micros());
                            }
                            TaskClass plain = TaskClass.of(false, false, 0);
                            sb.append(" | ").append(TaskClass.COUNT).append(' ').append(TaskClass.all().size()).append(' ')
                                    .append(TaskClass.Kind.values().length - 1).append(' ')
                                    .append(TaskClass.all().get(TaskClass.COUNT - 1).index()).append(' ')
                                    .append(plain.kind() == TaskClass.Kind.PLAIN && plain.size() == TaskClass.Size.UNDER_1K
                                            ? plain.key() : "?").append(' ')
                                    .append(Candidate.DEFAULT_EXPECTED_OUTPUT_TOKENS).append(' ')
                                    .append(LatencyStats.EMPTY.isEmpty() && EndpointStats.UNSEEN.requests() == 0
                                            && LatencyStats.of(1, 2, 3, 4).p99Micros() == 4
                                            && Candidate.expectedCostNanoUsd(r, 0, 0, 0) == 0
                                            && CircuitState.valueOf("OPEN") == CircuitState.OPEN)
                                    .append(" | seen ").append(seen);
                            List<Candidate> reversed = new ArrayList<>(candidates);
                            Collections.reverse(reversed);
                            RouteDecision d = RouteDecision.firstThenRest(reversed.get(0), reversed, sb.toString());
                            return RouteDecision.of(d.order(), d.first() == reversed.get(0) ? d.reason() : "?");
                        }

                        public void observe(Outcome o) {
                            seen.add(String.join(" ", o.requestId(), o.candidateId(), o.endpoint(), o.model(),
                                    o.taskClass().key()) + " " + o.status() + " " + o.score() + " " + o.latencyMicros()
                                    + " " + o.ttftMicros() + " " + o.costNanoUsd() + " " + o.answered());
                        }
                    };
                }
            }
            """;

    /**
     * What {@code current} breaks of the frozen surface: a type, field, constructor or method (by
     * name, static or not, generic return and parameter types) that is missing or changed, a type
     * that changed kind, and an abstract method added to an interface, which every plugin's
     * implementation would lack.
     */
    static List<String> breaks(Path frozenClasses, ClassLoader frozen, ClassLoader current) throws IOException {
        List<String> out = new ArrayList<>();
        for (String name : classNames(frozenClasses)) {
            Class<?> was = load(name, frozen);
            if (!Modifier.isPublic(was.getModifiers())) {
                continue;
            }
            Class<?> is;
            try {
                is = Class.forName(name, false, current);
            } catch (ClassNotFoundException e) {
                out.add(name + ": the type is missing");
                continue;
            }
            if (was.isInterface() != is.isInterface() || was.isEnum() != is.isEnum()) {
                out.add(name + ": the type changed kind");
                continue;
            }
            Set<String> now = signatures(is);
            for (String s : signatures(was)) {
                if (!now.contains(s)) {
                    out.add(name + ": " + s + " is missing or changed");
                }
            }
            if (is.isInterface()) {
                Set<String> before = signatures(was);
                for (Method m : is.getMethods()) {
                    if (Modifier.isAbstract(m.getModifiers()) && !before.contains("abstract " + signature(m))) {
                        out.add(name + ": new abstract " + signature(m) + " breaks every implementation");
                    }
                }
            }
        }
        return out;
    }

    private static Set<String> signatures(Class<?> type) {
        Set<String> out = new TreeSet<>();
        for (Field f : type.getFields()) {
            out.add((Modifier.isStatic(f.getModifiers()) ? "static " : "") + "field "
                    + f.getGenericType().getTypeName() + " " + f.getName());
        }
        for (Constructor<?> c : type.getConstructors()) {
            out.add("constructor(" + names(c.getGenericParameterTypes()) + ")");
        }
        for (Method m : type.getMethods()) {
            out.add(signature(m));
            if (type.isInterface() && Modifier.isAbstract(m.getModifiers())) {
                out.add("abstract " + signature(m));
            }
        }
        return out;
    }

    private static String signature(Method m) {
        return (Modifier.isStatic(m.getModifiers()) ? "static " : "") + "method "
                + m.getGenericReturnType().getTypeName() + " " + m.getName() + "(" + names(m.getGenericParameterTypes())
                + ")";
    }

    private static String names(Type[] types) {
        return Arrays.stream(types).map(Type::getTypeName).collect(Collectors.joining(", "));
    }

    private static List<String> classNames(Path classes) throws IOException {
        try (Stream<Path> files = Files.walk(classes)) {
            return files.filter(p -> p.toString().endsWith(".class"))
                    .map(p -> classes.relativize(p).toString().replace('\\', '/'))
                    .map(p -> p.substring(0, p.length() - ".class".length()).replace('/', '.'))
                    .filter(n -> n.startsWith(SPI_PACKAGE + "."))
                    .sorted()
                    .toList();
        }
    }

    private static Class<?> load(String name, ClassLoader loader) {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(name + " was compiled but does not load", e);
        }
    }

    /** The frozen sources of a version, compiled on their own into {@code classes}. */
    private static Path compile(Path sources, Path classes) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        PluginJar.compile(files, List.of(Files.createDirectories(classes)), classes);
        return classes;
    }

    /** Classes that see the JDK and nothing of the gateway, so frozen and current types never mix. */
    private static URLClassLoader isolated(Path classes) {
        try {
            return new URLClassLoader(new URL[] {classes.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(classes.toString(), e);
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    private static void edit(Path file, String from, String to) {
        try {
            String text = Files.readString(file);
            assertTrue(text.contains(from), from + " in " + file);
            Files.writeString(file, text.replace(from, to));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
