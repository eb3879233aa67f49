package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.KeyAccess;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.testing.ManualClock;
import io.brainstorm.proxy.testing.TestRegistries;
import io.brainstorm.proxy.upstream.Origin;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The router over the catalog's sim models with scripted strategies: names, variants, eligibility,
 * circuits, OpenRouter preferences and fallbacks, efficiency, and replayable randomness.
 */
class RouterTest {
    private static final Catalog CATALOG = Catalog.builtIn();
    private static final String DEFAULT_KEY = ApiKeys.generate();
    private static final String ACME_KEY = ApiKeys.generate();
    private final ManualClock clock = new ManualClock();
    private final AtomicReference<RouteRequest> seenRequest = new AtomicReference<>();
    private final AtomicReference<List<Candidate>> seenCandidates = new AtomicReference<>();
    private final AtomicReference<Long> seenRandom = new AtomicReference<>();
    /** Tenants {@code default} and {@code acme}, one API key each, no provider keys (the sim endpoints carry their own). */
    private final Registry registry = Registry.inMemory(
            TestRegistries.bootstrap(
                    List.of(
                            new KeyConfig("default-key", ApiKeys.sha256(DEFAULT_KEY), "default"),
                            new KeyConfig("acme-key", ApiKeys.sha256(ACME_KEY), "acme")),
                    List.of(),
                    java.util.Set.of()),
            InstantSource.system());

    private Router router;

    @BeforeEach
    void setUp() throws Exception {
        RoutingStrategy reverse = (request, candidates, random) -> {
            seenRequest.set(request);
            seenCandidates.set(candidates);
            seenRandom.set(random.nextLong());
            List<Candidate> order = new ArrayList<>(candidates);
            java.util.Collections.reverse(order);
            return RouteDecision.of(order, "reversed");
        };
        RoutingStrategy fast = (request, candidates, random) -> RouteDecision.of(candidates, "fast stand-in");
        RoutingStrategy throwing = (request, candidates, random) -> {
            throw new IllegalStateException("bug in a plugin");
        };
        RoutingStrategy foreign = (request, candidates, random) -> RouteDecision.of(
                List.of(Candidate.builder()
                        .id("x@y")
                        .endpoint("y")
                        .model("x")
                        .contextLength(1)
                        .maxOutputTokens(1)
                        .stats(candidates.get(0).stats())
                        .build()),
                "bogus");
        RoutingStrategy dropAllButLast = (request, candidates, random) ->
                RouteDecision.of(List.of(candidates.get(candidates.size() - 1)), "last only");
        StrategyRegistry strategies = StrategyRegistry.of(Map.of(
                "reverse",
                reverse,
                "fast",
                fast,
                "throws",
                throwing,
                "foreign",
                foreign,
                "last",
                dropAllButLast,
                "auto",
                reverse));
        GatewayConfig config = ConfigLoader.load("""
                sim: {enabled: false}
                routing:
                  seed: 5
                  learning: {discount: 1}
                  circuit: {min_requests: 2, failure_rate: 0.5, open_seconds: 7}
                """, Path.of("."), Map.of());
        router = GatewayServer.router(config, simEndpoints(), strategies, clock);
    }

    @AfterEach
    void closeRegistry() {
        registry.close();
    }

    /** What the gateway routes a request with: the access of the API key it presented. */
    private Access keyAccess(String apiKey) {
        return new KeyAccess(registry.authenticate("Bearer " + apiKey), registry);
    }

    private static List<Endpoint> simEndpoints() {
        List<Endpoint> out = new ArrayList<>();
        for (ModelSpec m : CATALOG.models()) {
            if (m.simulated()) {
                for (EndpointSpec e : m.endpoints()) {
                    out.add(new Endpoint(
                            e.id(),
                            m,
                            e.price(),
                            new Origin("127.0.0.1", 9, null),
                            "/" + e.id() + "/v1",
                            "sim-key",
                            Timeouts.DEFAULT,
                            true));
                }
            }
        }
        return out;
    }

    private static RequestFeatures chat() {
        return new RequestFeatures(100, -1, false, false, false, false);
    }

    private RoutePlan route(String model, RequestFeatures f) {
        return router.route(model, f, "req_test", keyAccess(DEFAULT_KEY));
    }

    private static List<String> ids(RoutePlan plan) {
        return plan.endpoints().stream().map(Endpoint::candidateId).toList();
    }

    private void trip(String candidateId) {
        EndpointHealth h = router.state().health(candidateId);
        for (int i = 0; i < 2; i++) {
            assertTrue(h.breaker().tryAcquire(clock.millis()));
            h.recordFailure(clock.millis());
        }
        assertEquals(CircuitState.OPEN, h.breaker().state(clock.millis()));
    }

    @Test
    void aPlainNameTriesTheEndpointsInConfiguredOrder() {
        RoutePlan plan = route("sim/alpha", chat());
        assertEquals("direct", plan.strategy());
        assertNull(plan.decider());
        assertEquals(List.of("sim/alpha@sim-east", "sim/alpha@sim-west", "sim/alpha@sim-budget"), ids(plan));
        assertEquals(0.5, plan.efficiency() / cheapestRatio(plan, chat()), 1e-9, "the prior quality, 0.5");
    }

    private static double cheapestRatio(RoutePlan plan, RequestFeatures f) {
        RouteRequest r = plan.request();
        long pick = plan.first()
                .candidate(io.brainstorm.proxy.spi.EndpointStats.UNSEEN)
                .expectedCostNanoUsd(r);
        long cheapest = plan.endpoints().stream()
                .mapToLong(e -> e.candidate(io.brainstorm.proxy.spi.EndpointStats.UNSEEN)
                        .expectedCostNanoUsd(r))
                .min()
                .orElseThrow();
        return (double) cheapest / pick;
    }

    @Test
    void aVariantHandsTheCandidatesToItsStrategy() {
        RoutePlan plan = router.route(
                "sim/alpha:reverse",
                new RequestFeatures(2_000, 50, true, false, true, false, List.of(), ProviderPreferences.NONE, "u-1"),
                "req_a",
                keyAccess(ACME_KEY));
        assertEquals("reverse", plan.strategy());
        assertEquals(List.of("sim/alpha@sim-budget", "sim/alpha@sim-west", "sim/alpha@sim-east"), ids(plan));
        RouteRequest r = seenRequest.get();
        assertEquals("sim/alpha", r.model());
        assertEquals("reverse", r.variant());
        assertEquals(TaskClass.of(true, false, 2_000), r.taskClass());
        assertEquals(2_000, r.estimatedInputTokens());
        assertEquals(50, r.maxTokens());
        assertTrue(r.stream() && r.tools() && !r.json());
        assertEquals("u-1", r.user());
        assertEquals("acme", r.tenant());
        assertEquals("req_a", r.requestId());
        Candidate east = seenCandidates.get().get(0);
        assertEquals("sim-east", east.endpoint());
        assertEquals(500_000_000L, east.inputNanoUsdPerMillion(), "sim-east's $0.50 per million");
        assertTrue(east.supports("tools") && east.supports("json"));
        assertEquals(1.0, east.stats().qualityAlpha());
        assertEquals(CircuitState.CLOSED, east.stats().circuit());
    }

    @Test
    void nitroIsFastAndUnknownOrUnofferedVariantsAre404() {
        assertEquals("fast", route("sim/alpha:nitro", chat()).strategy());
        ApiError unknown = assertThrows(ApiError.class, () -> route("sim/alpha:cheapest", chat()));
        assertEquals(404, unknown.status().code());
        assertTrue(
                unknown.getMessage().contains(":reverse")
                        && unknown.getMessage().contains(":fast"),
                unknown.getMessage());
        ApiError free = assertThrows(ApiError.class, () -> route("sim/alpha:free", chat()));
        assertTrue(free.getMessage().contains("sim/alpha:floor"), free.getMessage());
        assertEquals(
                404,
                assertThrows(ApiError.class, () -> route("sim/alpha:online", chat()))
                        .status()
                        .code());
        assertEquals(
                404,
                assertThrows(ApiError.class, () -> route("auto:reverse", chat()))
                        .status()
                        .code());
        assertEquals(
                404,
                assertThrows(ApiError.class, () -> route("sim/nosuch", chat()))
                        .status()
                        .code());
    }

    @Test
    void aBrokenStrategyFallsBackToConfiguredOrder() {
        assertEquals(ids(route("sim/alpha", chat())), ids(route("sim/alpha:throws", chat())));
        assertEquals(
                ids(route("sim/alpha", chat())),
                ids(route("sim/alpha:foreign", chat())),
                "a candidate it was not given is refused");
        assertEquals(
                List.of("sim/alpha@sim-budget"),
                ids(route("sim/alpha:last", chat())),
                "a strategy may leave candidates out");
    }

    @Test
    void autoSeesEveryModelThatFitsTheRequest() {
        RoutePlan plain = route("auto", chat());
        assertEquals("auto", plain.strategy());
        assertEquals("auto", seenRequest.get().model());
        List<String> models =
                seenCandidates.get().stream().map(Candidate::model).distinct().toList();
        assertEquals(List.of("sim/alpha", "sim/beta", "sim/gamma"), models, "chat models, not the embeddings one");

        route("auto", new RequestFeatures(100, -1, true, false, false, false));
        assertTrue(seenCandidates.get().stream().noneMatch(c -> c.model().equals("sim/gamma")), "gamma has no tools");

        route("auto", new RequestFeatures(40_000, -1, false, true, false, false));
        assertTrue(
                seenCandidates.get().stream().noneMatch(c -> c.model().equals("sim/gamma")),
                "gamma's 32k context is too small");

        route("auto", new RequestFeatures(10, -1, false, false, false, true));
        assertEquals(
                List.of("sim/embed"),
                seenCandidates.get().stream().map(Candidate::model).distinct().toList());
    }

    @Test
    void openCircuitsAreNotCandidatesButComeLastSoonestFirstForPanicMode() {
        trip("sim/alpha@sim-east");
        assertEquals(
                List.of("sim/alpha@sim-west", "sim/alpha@sim-budget", "sim/alpha@sim-east"),
                ids(route("sim/alpha", chat())));
        route("sim/alpha:reverse", chat());
        assertEquals(
                List.of("sim/alpha@sim-west", "sim/alpha@sim-budget"),
                seenCandidates.get().stream().map(Candidate::id).toList(),
                "a strategy never sees an open circuit");
        clock.advance(Duration.ofSeconds(3));
        trip("sim/alpha@sim-budget");
        clock.advance(Duration.ofSeconds(1));
        trip("sim/alpha@sim-west");
        // every circuit open: no 503, the plan holds them all, the one that half-opens first first
        assertEquals(
                List.of("sim/alpha@sim-east", "sim/alpha@sim-budget", "sim/alpha@sim-west"),
                ids(route("sim/alpha:reverse", chat())));
        clock.advance(Duration.ofSeconds(3));
        assertEquals(
                List.of("sim/alpha@sim-east", "sim/alpha@sim-budget", "sim/alpha@sim-west"),
                ids(route("sim/alpha", chat())),
                "sim-east is half-open now: usable, first");
    }

    @Test
    void onlyAKeyCoolingDownEverywhereUnderRetryAfterIs503AndOnlyForThatKey() {
        String acmeKey = "key-of-acme-for-";
        for (String e : List.of("sim-east", "sim-west", "sim-budget")) {
            router.state()
                    .health("sim/alpha@" + e)
                    .credentials()
                    .rateLimited(
                            CredentialHolds.fingerprint(acmeKey + e),
                            clock.millis(),
                            e.equals("sim-west") ? 20_000 : 60_000);
        }
        Access acme = access(List.of(), java.util.Set.of("sim-east", "sim-west", "sim-budget"));
        ApiError e = assertThrows(ApiError.class, () -> router.route("sim/alpha", chat(), "req_a", acme));
        assertEquals(503, e.status().code());
        assertEquals("no_healthy_endpoint", e.code());
        assertEquals(20, e.retryAfterSeconds(), "the soonest cool-down ends in 20 s");
        assertTrue(e.getMessage().contains("tenant 'acme'"), e.getMessage());
        assertEquals(
                List.of("sim/alpha@sim-east", "sim/alpha@sim-west", "sim/alpha@sim-budget"),
                ids(route("sim/alpha", chat())),
                "another key on the same endpoints is not affected");

        // a 401/403 sets the key aside: tried last, not refused
        clock.advance(Duration.ofSeconds(60));
        router.state()
                .health("sim/alpha@sim-east")
                .credentials()
                .rejected(CredentialHolds.fingerprint(acmeKey + "sim-east"), clock.millis(), 401);
        assertEquals(
                List.of("sim/alpha@sim-west", "sim/alpha@sim-budget", "sim/alpha@sim-east"),
                ids(router.route("sim/alpha", chat(), "req_b", acme)));
        assertEquals(
                List.of("sim/alpha@sim-east", "sim/alpha@sim-west", "sim/alpha@sim-budget"),
                ids(route("sim/alpha", chat())));
    }

    @Test
    void providerOrderComesFirstAndWithoutFallbacksAlone() {
        RequestFeatures ordered = new RequestFeatures(
                100,
                -1,
                false,
                false,
                false,
                false,
                List.of(),
                new ProviderPreferences(List.of("sim-budget", "sim-west"), true, null),
                "");
        assertEquals(
                List.of("sim/alpha@sim-budget", "sim/alpha@sim-west", "sim/alpha@sim-east"),
                ids(route("sim/alpha", ordered)));
        RequestFeatures only = new RequestFeatures(
                100,
                -1,
                false,
                false,
                false,
                false,
                List.of(),
                new ProviderPreferences(List.of("sim-west"), false, null),
                "");
        assertEquals(List.of("sim/alpha@sim-west"), ids(route("sim/alpha:reverse", only)));
        RequestFeatures none = new RequestFeatures(
                100,
                -1,
                false,
                false,
                false,
                false,
                List.of(),
                new ProviderPreferences(List.of("openai"), false, null),
                "");
        ApiError e = assertThrows(ApiError.class, () -> route("sim/alpha", none));
        assertEquals(404, e.status().code());
        assertTrue(e.getMessage().contains("sim-east"), e.getMessage());
    }

    @Test
    void providerSortChoosesAStrategyForAPlainName() {
        RequestFeatures latency = new RequestFeatures(
                100,
                -1,
                false,
                false,
                false,
                false,
                List.of(),
                new ProviderPreferences(List.of(), true, "latency"),
                "");
        assertEquals("fast", route("sim/alpha", latency).strategy());
    }

    @Test
    void fallbackModelsFollowTheAskedModelsEndpoints() {
        RequestFeatures f = new RequestFeatures(
                100,
                -1,
                false,
                false,
                false,
                false,
                List.of("sim/alpha", "sim/gamma", "sim/embed"),
                ProviderPreferences.NONE,
                "");
        assertEquals(
                List.of(
                        "sim/beta@sim-east",
                        "sim/beta@sim-west",
                        "sim/alpha@sim-east",
                        "sim/alpha@sim-west",
                        "sim/alpha@sim-budget",
                        "sim/gamma@sim-east",
                        "sim/gamma@sim-budget"),
                ids(route("sim/beta", f)),
                "the embeddings model cannot answer a chat: skipped");
        ApiError typo = assertThrows(
                ApiError.class,
                () -> route(
                        "sim/beta",
                        new RequestFeatures(
                                100,
                                -1,
                                false,
                                false,
                                false,
                                false,
                                List.of("sim/alpa"),
                                ProviderPreferences.NONE,
                                "")));
        assertEquals("models[0]", typo.param());
    }

    @Test
    void efficiencyIsThePicksPosteriorMeanTimesTheCheapestOverItsCost() {
        for (int i = 0; i < 8; i++) {
            router.state()
                    .learning()
                    .answered("default", "sim/alpha@sim-budget", TaskClass.of(false, false, 100), 1, 0);
        }
        RoutePlan plan = route("sim/alpha:reverse", chat());
        assertEquals("sim/alpha@sim-budget", plan.first().candidateId());
        assertEquals(9.0 / 10.0, plan.efficiency(), 1e-9, "Beta(9, 1) and the cheapest endpoint");
        RoutePlan direct = route("sim/alpha", chat());
        // east costs 2.5x budget for this request: 0.5 prior x 0.4
        assertEquals(0.5 * 0.4, direct.efficiency(), 1e-9);
    }

    @Test
    void theSameRequestIdDrawsTheSameRandomNumbers() {
        router.route("sim/alpha:reverse", chat(), "req_same", keyAccess(DEFAULT_KEY));
        long first = seenRandom.get();
        router.route("sim/alpha:reverse", chat(), "req_same", keyAccess(DEFAULT_KEY));
        assertEquals(first, seenRandom.get());
        router.route("sim/alpha:reverse", chat(), "req_other", keyAccess(DEFAULT_KEY));
        assertNotEquals(first, seenRandom.get());
    }

    @Test
    void theReportShowsStrategiesCircuitsAndLearntQuality() {
        trip("sim/alpha@sim-east");
        router.state().learning().answered("default", "sim/alpha@sim-west", TaskClass.of(false, true, 100), 1, 0);
        com.fasterxml.jackson.databind.JsonNode report = io.brainstorm.proxy.admin.RoutingReport.json(router);
        assertTrue(report.path("strategies").toString().contains("\"reverse\""), report.toString());
        com.fasterxml.jackson.databind.JsonNode east = null;
        com.fasterxml.jackson.databind.JsonNode west = null;
        for (com.fasterxml.jackson.databind.JsonNode e : report.path("endpoints")) {
            if (e.path("id").asText().equals("sim/alpha@sim-east")) {
                east = e;
            } else if (e.path("id").asText().equals("sim/alpha@sim-west")) {
                west = e;
            }
        }
        assertEquals("open", east.path("circuit").path("state").asText(), report.toString());
        assertEquals(2, east.path("circuit").path("failures").asInt());
        assertEquals(2.0, west.path("quality").path("json/0-1k").path("alpha").asDouble(), report.toString());
    }

    /** A key that may use {@code models} (all when empty) and whose tenant reaches only {@code endpoints}. */
    private static Access access(List<String> models, java.util.Set<String> endpoints) {
        return new Access() {
            @Override
            public String tenant() {
                return "acme";
            }

            @Override
            public boolean allowsModel(String modelId) {
                return models.isEmpty() || models.contains(modelId);
            }

            @Override
            public String upstreamKey(Endpoint e) {
                return endpoints.contains(e.id()) ? "key-of-acme-for-" + e.id() : null;
            }
        };
    }

    @Test
    void aKeyOnlyReachesEndpointsItsTenantHoldsAProviderKeyFor() {
        Access acme = access(List.of(), java.util.Set.of("sim-west", "sim-budget"));
        RoutePlan plan = router.route("sim/alpha", chat(), "req_a", acme);
        assertEquals(List.of("sim/alpha@sim-west", "sim/alpha@sim-budget"), ids(plan));
        assertEquals("key-of-acme-for-sim-west", plan.access().upstreamKey(plan.first()));

        plan = router.route("sim/alpha:reverse", chat(), "req_b", acme);
        assertEquals(List.of("sim/alpha@sim-budget", "sim/alpha@sim-west"), ids(plan));
        assertTrue(
                seenCandidates.get().stream().noneMatch(c -> c.endpoint().equals("sim-east")),
                "a strategy is never offered an endpoint the tenant cannot pay for");

        ApiError none = assertThrows(
                ApiError.class,
                () -> router.route("sim/alpha", chat(), "req_c", access(List.of(), java.util.Set.of())));
        assertEquals(404, none.status().code());
        assertEquals("model_not_found", none.code());
        assertTrue(
                none.getMessage().contains("tenant 'acme'") && none.getMessage().contains("'sim-east'"),
                none.getMessage());
    }

    @Test
    void aKeyLimitedToSomeModelsGets403ForOthersAndAutoChoosesAmongItsOwn() {
        Access onlyBeta = access(List.of("sim/beta"), java.util.Set.of("sim-east", "sim-west", "sim-budget"));
        ApiError e = assertThrows(ApiError.class, () -> router.route("sim/alpha", chat(), "req_d", onlyBeta));
        assertEquals(403, e.status().code());
        assertEquals("model_not_allowed", e.code());
        assertEquals("permission_error", e.type());

        RoutePlan auto = router.route("auto", chat(), "req_e", onlyBeta);
        assertTrue(
                auto.endpoints().stream().allMatch(x -> x.model().id().equals("sim/beta")),
                ids(auto).toString());

        RequestFeatures withFallbacks = new RequestFeatures(
                100, -1, false, false, false, false, List.of("sim/alpha"), ProviderPreferences.NONE, null);
        RoutePlan plan = router.route("sim/beta", withFallbacks, "req_f", onlyBeta);
        assertTrue(
                plan.endpoints().stream().noneMatch(x -> x.model().id().equals("sim/alpha")),
                "a fallback model the key may not use is skipped: " + ids(plan));
    }
}
