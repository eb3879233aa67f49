package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.server.Services;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.upstream.Origin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@code /metrics} costs: {@link Metrics#accept}, once per ended request on its event loop
 * (label lookups, counters, two HdrHistogram recorders, a registry lookup for budgeted keys), and
 * {@link Metrics#render()}, once per scrape on the admin thread, with 50 endpoints (10 simulated
 * models × 5 accounts) that have all served traffic and have circuits, plus the JVM and Netty gauges.
 * The completions vary endpoint, status, stream, format and score, as traffic does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MetricsBenchmark {
    private static final int MODELS = 10;
    private static final int ACCOUNTS = 5;

    private Path catalogFile;
    private Registry registry;
    private Metrics metrics;
    private Completion[] completions;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        catalogFile = Files.createTempFile("br-metrics-bench", ".yaml");
        StringBuilder yaml = new StringBuilder("models:\n");
        for (int m = 0; m < MODELS; m++) {
            yaml.append("  - id: sim/model-")
                    .append(m)
                    .append("\n    context_length: 128000\n")
                    .append("    max_output_tokens: 16384\n    capabilities: [tools, json]\n    endpoints:\n");
            for (int a = 0; a < ACCOUNTS; a++) {
                yaml.append("      - id: account-")
                        .append(a)
                        .append("\n        price: {input: 0.50, output: 1.50}\n")
                        .append("        sim: {latency_ms: 100, ttft_ms: 40, token_interval_ms: 8, quality: 0.9,")
                        .append(" failure_rate: 0.02}\n");
            }
        }
        Files.writeString(catalogFile, yaml);
        GatewayConfig config = ConfigLoader.load(
                "catalog: " + catalogFile + "\nsim:\n  enabled: false\n" + "state_store: memory\n",
                Path.of("."),
                Map.of());
        String secret = "br_live_" + "b".repeat(32);
        registry = Registry.inMemory(
                new Registry.Bootstrap(
                        List.of(new KeyConfig(
                                "bench",
                                io.brainstorm.proxy.auth.ApiKeys.sha256(secret),
                                "default",
                                5_000_000_000L,
                                0,
                                0)),
                        List.of(),
                        Set.of(),
                        null,
                        "br_admin_" + "B".repeat(32),
                        null,
                        Path.of("/nonexistent/master.key")),
                InstantSource.system());
        ApiKey key = registry.authenticate("Bearer " + secret);
        List<Endpoint> endpoints = new ArrayList<>();
        for (ModelSpec m : config.catalog().models()) {
            for (EndpointSpec e : m.endpoints()) {
                endpoints.add(new Endpoint(
                        e.id(),
                        m,
                        e.price(),
                        new Origin("127.0.0.1", 9, null),
                        "/v1",
                        "sk-sim",
                        Timeouts.DEFAULT,
                        true));
            }
        }
        StrategyRegistry strategies = StrategyRegistry.load(MetricsBenchmark.class.getClassLoader(), null, Map.of());
        Gateway gateway = gatewayWithoutUpstream(config, registry);
        StateStore store = StateStore.inMemory();
        gateway.start(Services.start(
                config,
                gateway.completions(),
                GatewayServer.router(config, endpoints, strategies, InstantSource.system()),
                new Admission(store.budgets(), store.rates(), InstantSource.system()),
                store.answers(),
                null));
        gateway.markReady();
        metrics = new Metrics(gateway);

        String tenant = Objects.requireNonNull(key.tenant(), "tenant of the key configured above");
        Random random = new Random(11);
        String[] formats = {"plain", "plain", "json_object", "json_schema", "tools"};
        completions = new Completion[1024];
        for (int i = 0; i < completions.length; i++) {
            Endpoint e = endpoints.get(random.nextInt(endpoints.size()));
            boolean stream = random.nextBoolean();
            boolean failed = random.nextInt(20) == 0;
            // the random draws in the order they always were, so the set of records stays the same
            completions[i] = Completion.builder("req_" + i, 0)
                    .atMillis(System.currentTimeMillis())
                    .key(tenant, key.id())
                    .operation("chat")
                    .requestedModel(e.model().id())
                    .strategy("direct")
                    .selected(e.model().id(), e.id())
                    .status(failed ? 502 : 200, failed ? "upstream_error" : null)
                    .stream(stream)
                    .tokens(200 + random.nextInt(2_000), 50 + random.nextInt(500))
                    .cost(1_000 + random.nextInt(100_000), false)
                    .latencyMicros(50_000 + random.nextInt(3_000_000))
                    .ttftMicros(stream ? 20_000 + random.nextInt(500_000) : -1)
                    .fallbacks(random.nextInt(10) == 0 ? 1 : 0)
                    .score(failed ? 0 : 1, failed ? ScoreOutcome.ERROR : ScoreOutcome.VALID)
                    .format(formats[random.nextInt(formats.length)])
                    .build();
        }
        // every label set exists before the measurement, as in a gateway that has served for a while
        for (int i = 0; i < 200_000; i++) {
            metrics.accept(completions[i % completions.length]);
        }
    }

    /** A gateway with no upstream client: nothing here relays, and Metrics never asks for one. */
    @SuppressWarnings("NullAway") // the upstream client is null on purpose, see above
    private static Gateway gatewayWithoutUpstream(GatewayConfig config, Registry registry) {
        return new Gateway(config, registry, null);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        registry.close();
        Files.deleteIfExists(catalogFile);
    }

    /** One ended request counted, on one thread. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void accept() {
        metrics.accept(completions[next++ & (completions.length - 1)]);
    }

    /** One scrape: the whole exposition as text. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String render() {
        return metrics.render();
    }
}
