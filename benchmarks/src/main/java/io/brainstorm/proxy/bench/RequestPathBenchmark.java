package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.KeyAccess;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ConfigException;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.upstream.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU the gateway adds to every chat request before it is sent upstream:
 * {@link ParsedRequest#parse} of the client body, {@link Router#route} of its model for the
 * calling key ({@link KeyAccess}), and {@link ParsedRequest#upstreamBody} patching the client's
 * bytes for the chosen endpoint. {@code full} is all three, as {@code server.ApiHandler} runs them;
 * {@code route} isolates routing; parse and patch alone are {@link RequestParseBenchmark}'s. Authenticating the key is {@link KeyLookupBenchmark}'s.
 *
 * <p>The body is a typical ~1 KB chat request (system prompt, a few turns, sampling options); the
 * router is built from the catalog shipped in the jar and one hand-made endpoint per model, the
 * way {@code server.GatewayServer#endpoints} makes them for a provider account: without a key of
 * its own, so that routing looks up the tenant's provider key in the {@link Registry}, as it does
 * in production.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class RequestPathBenchmark {

    @Param({"false", "true"})
    public boolean stream;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf body;
    private Router router;
    private Registry registry;
    private ApiKey key;
    private ParsedRequest parsed;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = chatBody("openai/gpt-4o-mini", stream).getBytes(StandardCharsets.UTF_8);
        if (bytes.length < 900 || bytes.length > 1200) {
            throw new IllegalStateException("body is " + bytes.length + " bytes (expected: about 1 KB)");
        }
        body = alloc.directBuffer(bytes.length);
        body.writeBytes(bytes);
        Catalog catalog = Catalog.builtIn();
        List<Endpoint> endpoints = new ArrayList<>();
        Set<String> providers = new LinkedHashSet<>();
        Origin origin = new Origin("127.0.0.1", 19090, null);
        for (ModelSpec m : catalog.models()) {
            if (!m.simulated()) {
                endpoints.add(new Endpoint(m.provider(), m, m.price(), origin, "/v1", null, Timeouts.DEFAULT, false));
                providers.add(m.provider());
            }
        }
        String secret = ApiKeys.generate();
        List<Registry.ProviderSecret> providerKeys = providers.stream()
                .map(p -> new Registry.ProviderSecret("default", p, "sk-bench-not-a-key-" + "x".repeat(32)))
                .toList();
        registry = Registry.inMemory(
                new Registry.Bootstrap(
                        List.of(new KeyConfig("bench", ApiKeys.sha256(secret), "default")),
                        providerKeys,
                        providers,
                        null,
                        "br_admin_" + "B".repeat(32),
                        null,
                        Path.of("/nonexistent/master.key")),
                InstantSource.system());
        key = registry.authenticate("Bearer " + secret);
        GatewayConfig config;
        try {
            config = ConfigLoader.load("sim: {enabled: false}\nrouting: {seed: 1}\n", Path.of("."), Map.of());
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
        router = GatewayServer.router(
                config,
                endpoints,
                StrategyRegistry.load(getClass().getClassLoader(), null, Map.of()),
                InstantSource.system());
        parsed = ParsedRequest.parse(ParsedRequest.Kind.CHAT, body);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (body.refCnt() != 1) {
            throw new IllegalStateException("leak: body refCnt " + body.refCnt() + " (expected: 1)");
        }
        body.release();
        registry.close();
    }

    /** As {@code server.ApiHandler} routes: with a fresh {@link KeyAccess} of the calling key. */
    private RoutePlan route(ParsedRequest r) {
        return router.route(r.model(), r.features(), "req_bench", new KeyAccess(key, registry));
    }

    @Benchmark
    public int full() {
        ParsedRequest r = ParsedRequest.parse(ParsedRequest.Kind.CHAT, body);
        RoutePlan d = route(r);
        ByteBuf out = r.upstreamBody(alloc, d.first());
        int n = out.readableBytes();
        out.release();
        return n;
    }

    @Benchmark
    public RoutePlan route() {
        return route(parsed);
    }

    /** A typical chat request of about 1 KB: the load run's body ({@link RequestParseBenchmark#prefix}). */
    static String chatBody(String model, boolean stream) {
        return RequestParseBenchmark.prefix(model) + ",\"stream\":" + stream
                + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }
}
