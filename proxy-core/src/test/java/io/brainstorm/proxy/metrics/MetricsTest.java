package io.brainstorm.proxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.TestFirstStrategyProvider;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.testing.Firings;
import io.brainstorm.proxy.testing.ManualClock;
import io.brainstorm.proxy.testing.TestRegistries;
import io.brainstorm.proxy.testing.TestRouters;
import io.brainstorm.proxy.upstream.Origin;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Metrics}: completions in, the exposition's numbers out. */
class MetricsTest {
    private final ManualClock clock = new ManualClock();
    private GatewayConfig config;
    private Registry registry;
    private Gateway gateway;
    private Metrics metrics;

    @BeforeEach
    void setUp() throws Exception {
        config = ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of());
        registry = TestRegistries.withKey("br_live_" + "m".repeat(32));
        gateway = new Gateway(config, registry, null);
        metrics = new Metrics(gateway);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private static String sample(String exposition, String nameAndLabels) {
        return ExpositionText.sample(exposition, nameAndLabels);
    }

    private static double sum(String exposition, String name) {
        return ExpositionText.sum(exposition, name);
    }

    private static String ok(String model, String endpoint) {
        return "{model=\"" + model + "\",endpoint=\"" + endpoint + "\"}";
    }

    @Test
    void requestsCountByModelEndpointStrategyAndStatus() {
        for (int i = 0; i < 3; i++) {
            metrics.accept(CompletionFixture.ok().build());
        }
        metrics.accept(CompletionFixture.ok()
                .selected("sim/alpha", "sim-west")
                .status(502, "upstream_error")
                .build());
        metrics.accept(CompletionFixture.refused(429, "rate_limited").build());
        metrics.accept(CompletionFixture.refused(402, "budget_exceeded").build());
        metrics.accept(CompletionFixture.refused(401, "invalid_api_key")
                .requestedModel(null)
                .key(null, null)
                .build());

        String x = metrics.render();
        assertEquals(
                "3",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"sim-east\","
                                + "strategy=\"direct\",status=\"200\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"sim-west\","
                                + "strategy=\"direct\",status=\"502\"}"));
        // refused before routing: the requested model, no endpoint, no strategy
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"none\","
                                + "strategy=\"none\",status=\"429\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"none\",endpoint=\"none\","
                                + "strategy=\"none\",status=\"401\"}"));
        assertEquals(7, sum(x, "brainstorm_requests_total"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_errors_total{model=\"sim/alpha\",endpoint=\"sim-west\","
                                + "code=\"upstream_error\"}"));
        assertEquals(
                "1", sample(x, "brainstorm_errors_total{model=\"none\",endpoint=\"none\",code=\"invalid_api_key\"}"));
        assertEquals("1", sample(x, "brainstorm_rate_limited_total"));
        assertEquals("1", sample(x, "brainstorm_budget_refusals_total"));
        assertEquals("300", sample(x, "brainstorm_prompt_tokens_total" + ok("sim/alpha", "sim-east")));
        assertEquals("60", sample(x, "brainstorm_completion_tokens_total" + ok("sim/alpha", "sim-east")));
    }

    @Test
    void cacheReadsAndWritesAreCountedApartFromThePrompt() {
        metrics.accept(CompletionFixture.ok()
                .selected("sim/beta", "sim-west")
                .usage(new Usage(6_500, 400, 2_000, 0, 3_000, 500))
                .build());
        metrics.accept(CompletionFixture.ok()
                .selected("sim/beta", "sim-west")
                .usage(new Usage(1_000, 10, 0, 0))
                .build());
        String x = metrics.render();
        String labels = "{model=\"sim/beta\",endpoint=\"sim-west\"}";
        assertEquals("7500", sample(x, "brainstorm_prompt_tokens_total" + labels));
        assertEquals("2000", sample(x, "brainstorm_cached_tokens_total" + labels));
        assertEquals("3500", sample(x, "brainstorm_cache_write_tokens_total" + labels));
    }

    @Test
    void anInvalidUpstreamAnswerIsItsOwnErrorCodeAndAFailedScore() {
        metrics.accept(CompletionFixture.ok()
                .selected("sim/alpha", "sim-west")
                .status(502, "upstream_invalid_response")
                .score(0, ScoreOutcome.ERROR)
                .build());
        String x = metrics.render();
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_errors_total{model=\"sim/alpha\",endpoint=\"sim-west\","
                                + "code=\"upstream_invalid_response\"}"));
        assertNull(sample(x, "brainstorm_errors_total{model=\"sim/alpha\",endpoint=\"sim-west\",code=\"other\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_scorer_outcomes_total{model=\"sim/alpha\",endpoint=\"sim-west\","
                                + "format=\"plain\",outcome=\"error\"}"));
    }

    @Test
    void aliasesAndVariantsCountUnderTheCatalogId() {
        String alias = config.catalog().models().stream()
                .filter(m -> !m.aliases().isEmpty())
                .findFirst()
                .orElseThrow()
                .aliases()
                .get(0);
        String id = config.catalog().find(alias).orElseThrow().id();
        metrics.accept(CompletionFixture.refused(404, "model_not_found")
                .requestedModel(alias)
                .build());
        metrics.accept(CompletionFixture.refused(403, "model_not_allowed")
                .requestedModel(id + ":fast")
                .build());
        metrics.accept(CompletionFixture.refused(503, "no_healthy_endpoint")
                .requestedModel("auto")
                .build());

        String x = metrics.render();
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"" + id + "\",endpoint=\"none\",strategy=\"none\","
                                + "status=\"404\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"" + id + "\",endpoint=\"none\",strategy=\"none\","
                                + "status=\"403\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"auto\",endpoint=\"none\",strategy=\"none\","
                                + "status=\"503\"}"));
    }

    @Test
    void durationHistogramIsCumulativeWithExactSum() {
        long[] micros = {500, 3_000, 3_000, 70_000, 90_000_000};
        for (long m : micros) {
            metrics.accept(CompletionFixture.ok().latencyMicros(m).build());
        }
        String x = metrics.render();
        String b = "brainstorm_request_duration_seconds_bucket{model=\"sim/alpha\",endpoint=\"sim-east\",le=\"";
        assertEquals("1", sample(x, b + "0.001\"}"));
        assertEquals("1", sample(x, b + "0.0025\"}"));
        assertEquals("3", sample(x, b + "0.005\"}"));
        assertEquals("3", sample(x, b + "0.05\"}"));
        assertEquals("4", sample(x, b + "0.1\"}"));
        assertEquals("4", sample(x, b + "60\"}"));
        assertEquals("5", sample(x, b + "+Inf\"}"));
        assertEquals("5", sample(x, "brainstorm_request_duration_seconds_count" + ok("sim/alpha", "sim-east")));
        assertEquals("90.0765", sample(x, "brainstorm_request_duration_seconds_sum" + ok("sim/alpha", "sim-east")));
        // no stream, no time to first token
        assertNull(sample(x, "brainstorm_time_to_first_token_seconds_count" + ok("sim/alpha", "sim-east")));

        // a second scrape adds the new values to the old ones
        metrics.accept(CompletionFixture.ok().latencyMicros(1_000).stream(true)
                .ttftMicros(800)
                .build());
        x = metrics.render();
        assertEquals("2", sample(x, b + "0.001\"}"));
        assertEquals("6", sample(x, b + "+Inf\"}"));
        assertEquals("6", sample(x, "brainstorm_request_duration_seconds_count" + ok("sim/alpha", "sim-east")));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_time_to_first_token_seconds_bucket{model=\"sim/alpha\","
                                + "endpoint=\"sim-east\",le=\"0.001\"}"));
        assertEquals("0.0008", sample(x, "brainstorm_time_to_first_token_seconds_sum" + ok("sim/alpha", "sim-east")));
    }

    @Test
    void histogramBucketsNeverDecreaseAndEndAtTheCount() {
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 5_000; i++) {
            // log-uniform from 10 µs to 100 s
            long micros = (long) Math.pow(10, 1 + random.nextDouble() * 7);
            metrics.accept(CompletionFixture.ok().latencyMicros(micros).build());
        }
        String x = metrics.render();
        long previous = 0;
        for (String le : List.of(
                "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
                "60", "+Inf")) {
            long v = Long.parseLong(sample(
                    x,
                    "brainstorm_request_duration_seconds_bucket{model=\"sim/alpha\"," + "endpoint=\"sim-east\",le=\""
                            + le + "\"}"));
            assertTrue(v >= previous, "le=" + le + ": " + v + " < " + previous);
            previous = v;
        }
        assertEquals(5_000, previous);
    }

    @Test
    void costIsAnExactDecimalSumOfNanoDollars() {
        for (int i = 0; i < 10; i++) {
            metrics.accept(CompletionFixture.ok().cost(100_000_001, false).build());
        }
        metrics.accept(CompletionFixture.ok()
                .selected("sim/beta", "sim-east")
                .cost(7, false)
                .build());
        String x = metrics.render();
        assertEquals("1.00000001", sample(x, "brainstorm_cost_usd_total" + ok("sim/alpha", "sim-east")));
        assertEquals("0.000000007", sample(x, "brainstorm_cost_usd_total" + ok("sim/beta", "sim-east")));
    }

    @Test
    void budgetSpentCountsOnlyKeysWithABudget() {
        var budgeted = registry.createKey(
                        "default",
                        new Registry.KeySpec(
                                "budgeted",
                                KeyKind.API,
                                new KeyLimits(5_000_000_000L, 0, 0),
                                List.of(),
                                ZoneOffset.UTC))
                .key();
        var unlimited = registry.createKey(
                        "default", new Registry.KeySpec("free", KeyKind.API, KeyLimits.NONE, List.of(), ZoneOffset.UTC))
                .key();
        metrics.accept(CompletionFixture.ok()
                .key("default", budgeted.id())
                .cost(2_500_000, false)
                .build());
        metrics.accept(CompletionFixture.ok()
                .key("default", unlimited.id())
                .cost(9_000_000, false)
                .build());
        String x = metrics.render();
        assertEquals("0.0025", sample(x, "brainstorm_budget_spent_usd_total"));
        assertEquals("0.0115", sample(x, "brainstorm_cost_usd_total" + ok("sim/alpha", "sim-east")));
    }

    @Test
    void scorerOutcomesAndMeanScoreByFormat() {
        metrics.accept(CompletionFixture.ok()
                .format("json_schema")
                .score(1, ScoreOutcome.VALID)
                .build());
        metrics.accept(CompletionFixture.ok()
                .format("json_schema")
                .score(1, ScoreOutcome.VALID)
                .build());
        metrics.accept(CompletionFixture.ok()
                .format("json_schema")
                .score(0, ScoreOutcome.SCHEMA_MISMATCH)
                .build());
        metrics.accept(CompletionFixture.ok()
                .format("json_schema")
                .score(-1, ScoreOutcome.OVER_LIMIT)
                .build());
        metrics.accept(CompletionFixture.ok()
                .format("tools")
                .score(0, ScoreOutcome.BAD_ARGUMENTS)
                .build());
        metrics.accept(CompletionFixture.ok()
                .format("made-up")
                .score(1, ScoreOutcome.VALID)
                .build());
        String x = metrics.render();
        String p = "brainstorm_scorer_outcomes_total{model=\"sim/alpha\",endpoint=\"sim-east\",format=\"";
        assertEquals("2", sample(x, p + "json_schema\",outcome=\"valid\"}"));
        assertEquals("1", sample(x, p + "json_schema\",outcome=\"schema_mismatch\"}"));
        assertEquals("1", sample(x, p + "json_schema\",outcome=\"over_limit\"}"));
        assertEquals("1", sample(x, p + "tools\",outcome=\"bad_arguments\"}"));
        assertEquals("1", sample(x, p + "other\",outcome=\"valid\"}"));
        // the unscored answer counts in the outcomes, not in the mean: 2 of 3 schema answers validate
        String m = "{model=\"sim/alpha\",endpoint=\"sim-east\",format=\"json_schema\"}";
        assertEquals("3", sample(x, "brainstorm_answer_score_count" + m));
        assertEquals("2", sample(x, "brainstorm_answer_score_sum" + m));
        assertEquals("0", sample(x, "brainstorm_answer_score_sum" + m.replace("json_schema", "tools")));
    }

    @Test
    void fallbacksCountUnderTheEndpointThatAnswered() {
        metrics.accept(CompletionFixture.ok()
                .selected("sim/alpha", "sim-west")
                .fallbacks(2)
                .build());
        metrics.accept(CompletionFixture.ok().selected("sim/alpha", "sim-west").build());
        String x = metrics.render();
        assertEquals("2", sample(x, "brainstorm_fallbacks_total" + ok("sim/alpha", "sim-west")));
    }

    @Test
    void clientWrittenNamesNeverBecomeLabels() {
        String hostile = "evil\"} 1\nbrainstorm_ready 0\n# TYPE x counter\\";
        metrics.accept(CompletionFixture.refused(404, "model_not_found")
                .requestedModel(hostile)
                .build());
        metrics.accept(CompletionFixture.ok()
                .selected(hostile, hostile)
                .strategy(hostile)
                .status(999, hostile)
                .build());
        metrics.accept(CompletionFixture.ok()
                .requestedModel("sim/alpha:" + hostile)
                .selected(null, null)
                .strategy(null)
                .status(400, "invalid_request")
                .build());
        String x = metrics.render();
        assertFalse(x.contains("evil"), x);
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"unknown\",endpoint=\"none\",strategy=\"none\","
                                + "status=\"404\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"unknown\",endpoint=\"unknown\","
                                + "strategy=\"other\",status=\"other\"}"));
        assertEquals("1", sample(x, "brainstorm_errors_total{model=\"unknown\",endpoint=\"unknown\",code=\"other\"}"));
        // a variant the client made up still names a catalog model
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"none\","
                                + "strategy=\"none\",status=\"400\"}"));
    }

    @Test
    void noKeyTenantRequestOrAppIdAppears() {
        for (int i = 0; i < 20; i++) {
            metrics.accept(CompletionFixture.ok("req_Marker" + i)
                    .key("tenant-zebra-" + i, "key_QX7Secret" + i)
                    .app("app-Heron" + i)
                    .score(1, ScoreOutcome.PLAIN_OK)
                    .stream(true)
                    .ttftMicros(2_000)
                    .build());
            metrics.accept(CompletionFixture.refused(429, "rate_limited")
                    .key("tenant-zebra-" + i, "key_QX7Secret" + i)
                    .build());
        }
        String x = metrics.render();
        for (String marker : List.of("zebra", "QX7Secret", "Marker", "Heron")) {
            assertFalse(x.contains(marker), marker + " in\n" + x);
        }
        assertEquals(40, sum(x, "brainstorm_requests_total"));
    }

    @Test
    void labelSetsBeyondTheCapCountUnderOverflow() {
        metrics = new Metrics(gateway, 3);
        List<String[]> pairs = List.of(
                new String[] {"sim/alpha", "sim-east"},
                new String[] {"sim/alpha", "sim-west"},
                new String[] {"sim/beta", "sim-east"},
                new String[] {"sim/beta", "sim-west"},
                new String[] {"sim/gamma", "sim-east"});
        for (String[] p : pairs) {
            metrics.accept(CompletionFixture.ok()
                    .selected(p[0], p[1])
                    .cost(1_000_000, false)
                    .build());
        }
        String x = metrics.render();
        // the first pair takes two label sets (its series and its request counter), the second one
        assertEquals(5, sum(x, "brainstorm_requests_total"));
        assertEquals(0.005, sum(x, "brainstorm_cost_usd_total"), 1e-12);
        // the second's request counter, and the last three whole
        assertEquals("4", sample(x, "brainstorm_metrics_label_overflow_total"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total"
                                + ok("sim/alpha", "sim-east").replace("}", ",strategy=\"direct\",status=\"200\"}")));
        assertTrue(x.contains("model=\"overflow\",endpoint=\"overflow\""), x);
        assertFalse(x.contains("sim/gamma"), x);
    }

    @Test
    void circuitStatesOfEveryRoutedEndpoint() {
        ModelSpec alpha = config.catalog().find("sim/alpha").orElseThrow();
        List<Endpoint> endpoints = new ArrayList<>();
        for (String id : List.of("sim-east", "sim-west")) {
            endpoints.add(new Endpoint(
                    id,
                    alpha,
                    alpha.price(),
                    new Origin("127.0.0.1", 9, null),
                    "/v1",
                    "sk-sim",
                    Timeouts.DEFAULT,
                    true));
        }
        Router router = TestRouters.of(endpoints, clock);
        // no router yet: the family is there, empty
        String starting = metrics.render();
        assertTrue(starting.contains("# TYPE brainstorm_circuit_state gauge"));
        assertEquals(0, sum(starting, "brainstorm_circuit_state"));

        TestRouters.start(gateway, router);
        router.state().health(endpoints.get(1).candidateId()).breaker().onRateLimited(clock.millis(), 60_000);
        String x = metrics.render();
        String west = "brainstorm_circuit_state{model=\"sim/alpha\",endpoint=\"sim-west\",state=\"";
        String east = "brainstorm_circuit_state{model=\"sim/alpha\",endpoint=\"sim-east\",state=\"";
        assertEquals("1", sample(x, west + "open\"}"));
        assertEquals("0", sample(x, west + "closed\"}"));
        assertEquals("0", sample(x, west + "half_open\"}"));
        assertEquals("1", sample(x, east + "closed\"}"));
        assertEquals("0", sample(x, east + "open\"}"));
    }

    @Test
    void learningResetsCountByScopeAndDirection() {
        String starting = metrics.render();
        assertEquals(0, sum(starting, "brainstorm_learning_resets_total"), starting);
        assertEquals("0", sample(starting, resets("shared", "down")), "every sample from the start");

        Router router = TestRouters.of(List.of(), clock);
        TestRouters.start(gateway, router);
        Firings.drop(router.state().learning(), "acme", "sim/alpha@sim-east", clock.millis());
        Firings.dropByFeedback(router.state().learning(), "globex", "sim/alpha@sim-west", clock.millis());
        String x = metrics.render();
        assertTrue(x.contains("# TYPE brainstorm_learning_resets_total counter\n"), x);
        assertEquals("1", sample(x, resets("shared", "down")), x);
        assertEquals("2", sample(x, resets("tenant", "down")), x);
        assertEquals("0", sample(x, resets("shared", "up")), x);
        assertEquals("0", sample(x, resets("tenant", "up")), x);
        assertFalse(x.contains("acme") || x.contains("globex"), "no tenant's id: " + x);
    }

    private static String resets(String scope, String direction) {
        return "brainstorm_learning_resets_total{scope=\"" + scope + "\",direction=\"" + direction + "\"}";
    }

    @Test
    void strategiesTheRouterLoadedAreLabels() {
        TestRouters.start(gateway, TestRouters.empty());
        metrics.accept(
                CompletionFixture.ok().strategy(TestFirstStrategyProvider.NAME).build());
        metrics.accept(CompletionFixture.ok().strategy("not-loaded").build());
        String x = metrics.render();
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"sim-east\",strategy=\""
                                + TestFirstStrategyProvider.NAME + "\",status=\"200\"}"));
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"sim-east\","
                                + "strategy=\"other\",status=\"200\"}"));
    }

    @Test
    void readinessAndRuntimeGauges() {
        String x = metrics.render();
        assertEquals("0", sample(x, "brainstorm_ready"));
        assertEquals("0", sample(x, "brainstorm_in_flight_requests"));
        gateway.markReady();
        x = metrics.render();
        assertEquals("1", sample(x, "brainstorm_ready"));
        assertTrue(Long.parseLong(sample(x, "brainstorm_jvm_memory_used_bytes{area=\"heap\"}")) > 0);
        assertTrue(Long.parseLong(sample(x, "brainstorm_jvm_threads")) > 0);
        assertTrue(sample(x, "brainstorm_buffer_pool_used_bytes{pool=\"direct\"}") != null, x);
        assertTrue(
                sample(x, "brainstorm_netty_allocator_used_bytes{allocator=\"adaptive\",area=\"direct\"}") != null, x);
        if (RuntimeMetrics.residentBytes() >= 0) {
            assertTrue(Long.parseLong(sample(x, "brainstorm_process_resident_memory_bytes")) > 1_000_000);
        }
        assertTrue(sum(x, "brainstorm_jvm_gc_collections_total") >= 0);
    }

    @Test
    void familiesAreSortedEachWithHelpAndType() {
        metrics.accept(CompletionFixture.ok().stream(true)
                .ttftMicros(1_000)
                .score(1, ScoreOutcome.VALID)
                .build());
        String x = metrics.render();
        List<String> names = new ArrayList<>();
        String[] lines = x.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("# HELP ")) {
                String name = lines[i].split(" ")[2];
                assertTrue(lines[i + 1].startsWith("# TYPE " + name + " "), lines[i + 1]);
                names.add(name);
            } else if (!lines[i].startsWith("#")) {
                assertTrue(lines[i].startsWith("brainstorm_"), lines[i]);
            }
        }
        assertEquals(names.stream().sorted().distinct().toList(), names);
        assertTrue(names.size() > 25, names.toString());
    }

    @Test
    void familiesOtherPartsRegister() {
        long[] written = {41};
        metrics.addCounter("brainstorm_audit_records_written_total", "Audit records written.", () -> written[0]);
        metrics.addGauge("brainstorm_audit_queue_records", "Audit records waiting.", () -> 2.5);
        written[0]++;
        String x = metrics.render();
        assertEquals("42", sample(x, "brainstorm_audit_records_written_total"));
        assertEquals("2.5", sample(x, "brainstorm_audit_queue_records"));
        assertTrue(x.contains("# TYPE brainstorm_audit_records_written_total counter\n"));

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> metrics.addGauge("brainstorm_requests_total", "dup", () -> 1));
        assertTrue(e.getMessage().contains("brainstorm_requests_total"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> metrics.addCounter("brainstorm_requests_total", "dup", () -> 1));
        assertThrows(
                IllegalArgumentException.class, () -> metrics.addGauge("brainstorm_audit_queue_records", "x", () -> 1));
        assertThrows(IllegalArgumentException.class, () -> metrics.addGauge("audit_queue", "x", () -> 1));
        assertThrows(
                IllegalArgumentException.class, () -> metrics.addCounter("brainstorm_audit_written", "x", () -> 1));
        assertThrows(IllegalArgumentException.class, () -> metrics.addGauge("brainstorm_Queue", "x", () -> 1));
    }

    @Test
    void labelValuesAndHelpAreEscaped() {
        Exposition x = new Exposition(64);
        x.family("brainstorm_t", "gauge", "a \\ b\nc");
        x.sample("brainstorm_t", "gc", "a\"b\\c\nd").value(1);
        x.sample("brainstorm_t", "gc", "plain").value(Double.POSITIVE_INFINITY);
        x.sample("brainstorm_t", "gc", "nan").value(Double.NaN);
        x.sample("brainstorm_t", "gc", "small").value(1.0e-5);
        assertEquals("""
                # HELP brainstorm_t a \\\\ b\\nc
                # TYPE brainstorm_t gauge
                brainstorm_t{gc="a\\"b\\\\c\\nd"} 1
                brainstorm_t{gc="plain"} +Inf
                brainstorm_t{gc="nan"} NaN
                brainstorm_t{gc="small"} 1.0E-5
                """, x.toString());
    }

    @Test
    @Timeout(60)
    void concurrentCompletionsAreAllCounted() throws Exception {
        int threads = 4;
        int each = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String endpoint = t % 2 == 0 ? "sim-east" : "sim-west";
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    metrics.accept(CompletionFixture.ok()
                            .selected("sim/alpha", endpoint)
                            .latencyMicros(1_000 + i)
                            .build());
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        // scrapes while the writers write lose nothing
        while (ts.stream().anyMatch(Thread::isAlive)) {
            metrics.render();
        }
        for (Thread th : ts) {
            th.join();
        }
        String x = metrics.render();
        assertEquals(threads * each, sum(x, "brainstorm_requests_total"));
        assertEquals(threads * each, sum(x, "brainstorm_request_duration_seconds_count"));
        assertEquals(threads * each * 100, sum(x, "brainstorm_prompt_tokens_total"));
    }
}
