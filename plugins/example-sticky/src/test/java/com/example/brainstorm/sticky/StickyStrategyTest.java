package com.example.brainstorm.sticky;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.SpiVersion;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.testing.StrategyFixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

class StickyStrategyTest {
    private static final RoutingStrategy STICKY = create(Map.of());

    @Test
    void aUserStaysOnTheSameEndpointWhateverOrderTheCandidatesComeIn() {
        qt().forAll(users(), integers().between(1, 12), longs().all()).checkAssert((user, n, shuffleSeed) -> {
            List<Candidate> candidates = candidates(n);
            Candidate first = route(user, candidates).first();
            List<Candidate> shuffled = new ArrayList<>(candidates);
            Collections.shuffle(shuffled, new Random(shuffleSeed));
            RouteDecision again = route(user, shuffled);
            assertEquals(first, again.first());
            assertEquals(
                    Set.copyOf(candidates), Set.copyOf(again.order()), "every candidate stays in the failover order");
            assertEquals(n, again.order().size());
        });
    }

    @Test
    void whenAnotherEndpointLeavesTheUserStaysPut() {
        qt().forAll(users(), integers().between(2, 12), integers().between(0, 11))
                .checkAssert((user, n, leaving) -> {
                    List<Candidate> candidates = candidates(n);
                    Candidate first = route(user, candidates).first();
                    List<Candidate> fewer = new ArrayList<>(candidates);
                    Candidate gone = fewer.remove(leaving % n);
                    if (gone != first) {
                        assertEquals(first, route(user, fewer).first());
                    }
                });
    }

    @Test
    void whenTheUsersEndpointLeavesTheUserMovesToTheirFailover() {
        qt().forAll(users(), integers().between(2, 12)).checkAssert((user, n) -> {
            List<Candidate> candidates = candidates(n);
            RouteDecision before = route(user, candidates);
            List<Candidate> fewer = new ArrayList<>(candidates);
            fewer.remove(before.first());
            assertEquals(before.order().subList(1, n), route(user, fewer).order());
        });
    }

    @Test
    void usersSpreadEvenlyOverTheEndpoints() {
        List<Candidate> candidates = candidates(4);
        Map<Candidate, Integer> counts = new HashMap<>();
        for (int u = 0; u < 4_000; u++) {
            counts.merge(route("user-" + u, candidates).first(), 1, Integer::sum);
        }
        assertEquals(4, counts.size(), "every endpoint gets users: " + counts);
        for (int count : counts.values()) {
            assertTrue(count > 800 && count < 1_200, "about a quarter of the users each: " + counts);
        }
    }

    @Test
    void withoutAUserItSticksByTenant() {
        List<Candidate> candidates = candidates(5);
        Set<Candidate> firsts = new HashSet<>();
        for (int t = 0; t < 50; t++) {
            String tenant = "tenant-" + t;
            Candidate first = STICKY.route(request(tenant, ""), candidates, new SplittableRandom(1))
                    .first();
            // another request of the same tenant, with another random source: same endpoint
            assertEquals(
                    first,
                    STICKY.route(request(tenant, ""), candidates, new SplittableRandom(2))
                            .first());
            firsts.add(first);
        }
        assertTrue(firsts.size() >= 3, "tenants spread over the endpoints: " + firsts);
    }

    @Test
    void fallbackConfiguredKeepsTheConfiguredOrderForRequestsWithoutAUser() {
        RoutingStrategy strategy = create(Map.of("fallback", "configured"));
        List<Candidate> candidates = candidates(6);
        for (int t = 0; t < 20; t++) {
            assertEquals(
                    candidates,
                    strategy.route(request("tenant-" + t, ""), candidates, new SplittableRandom(t))
                            .order());
        }
        // a request with a user is still sticky: not always the configured first
        Set<Candidate> firsts = new HashSet<>();
        for (int u = 0; u < 50; u++) {
            firsts.add(strategy.route(request("acme", "user-" + u), candidates, new SplittableRandom(u))
                    .first());
        }
        assertTrue(firsts.size() > 1, "users spread: " + firsts);
    }

    @Test
    void fallbackCheapestPutsTheCheapestFirstForRequestsWithoutAUser() {
        RoutingStrategy strategy = create(Map.of("fallback", "cheapest"));
        List<Candidate> candidates = List.of(
                candidate("east", 3_000_000_000L),
                candidate("budget", 1_000_000_000L),
                candidate("west", 2_000_000_000L));
        RouteDecision d = strategy.route(request("acme", ""), candidates, new SplittableRandom(0));
        assertEquals(
                List.of("sim/alpha@budget", "sim/alpha@west", "sim/alpha@east"),
                d.order().stream().map(Candidate::id).toList());
    }

    @Test
    void anUnknownFallbackIsRefusedNamingTheSetting() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> create(Map.of("fallback", "random")));
        assertEquals(
                "routing.strategies.sticky.fallback: random (expected: tenant, configured or cheapest)",
                e.getMessage());
    }

    @Test
    void theProviderIsFoundByServiceLoaderAndDeclaresThisSpi() {
        List<RoutingStrategyProvider> found = ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p instanceof StickyStrategyProvider)
                .toList();
        assertEquals(1, found.size(), "listed in META-INF/services");
        assertEquals("sticky", found.get(0).name());
        assertEquals(SpiVersion.MAJOR, found.get(0).spiVersion());
    }

    private static Gen<String> users() {
        return strings().basicLatinAlphabet().ofLengthBetween(1, 24);
    }

    private static RoutingStrategy create(Map<String, String> settings) {
        return new StickyStrategyProvider().create(StrategyConfig.of("sticky", settings));
    }

    private static RouteDecision route(String user, List<Candidate> candidates) {
        return STICKY.route(request("acme", user), candidates, new SplittableRandom(user.hashCode()));
    }

    private static RouteRequest request(String tenant, String user) {
        return StrategyFixtures.request("sticky")
                .tenant(tenant)
                .estimatedInputTokens(100)
                .user(user)
                .build();
    }

    private static List<Candidate> candidates(int n) {
        List<Candidate> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(candidate("sim-" + i, 1_000_000_000L));
        }
        return out;
    }

    /** {@code sim/alpha@<endpoint>}, never seen. */
    private static Candidate candidate(String endpoint, long inputNanoUsdPerMillion) {
        return StrategyFixtures.candidate(endpoint)
                .inputNanoUsdPerMillion(inputNanoUsdPerMillion)
                .outputNanoUsdPerMillion(2 * inputNanoUsdPerMillion)
                .capabilities(Set.of("tools", "json"))
                .build();
    }
}
