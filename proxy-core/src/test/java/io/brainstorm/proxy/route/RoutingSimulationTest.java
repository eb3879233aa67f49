package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.TaskClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Routing convergence in process (docs/architecture.md §5, §12): the built-in {@code smart} and {@code auto}
 * strategies, loaded through {@link ServiceLoader} as the core loads them, route simulated
 * requests; each answer's success is drawn from the true quality of the endpoint tried first and
 * fed to {@link Learning} with its default settings (no discount; the change detector). The learner must settle on the
 * endpoint with the best true utility, move away from it within a bounded number of requests
 * after its quality drops, and stay away.
 */
class RoutingSimulationTest {
    static final int LEARN = 3_000;
    static final int AFTER_DROP = 1_000;
    /** Share of the last requests before the drop that must go to the best endpoint. */
    static final double CONVERGED_SHARE = 0.8;

    static final int CONVERGED_WINDOW = 500;
    /** After the drop the degraded endpoint's share over a trailing window must fall below this ... */
    static final double ABANDONED_SHARE = 0.2;

    static final int ABANDONED_WINDOW = 100;
    /**
     * ... for a window ending at most this many requests after the drop. Over seeds 1 to 20 the
     * scenarios below take 184 to 633 requests (smart, median about 255) and 116 to 456 (auto,
     * median about 200): the degraded endpoint's mean must fall below the runner-up's before its
     * share drops, and with γ applied per own answer that slows down as its share falls.
     */
    static final int ADAPTATION_BOUND = 700;

    /** Share of the last 500 requests the degraded endpoint may still get (exploration). */
    static final double STAYS_AWAY_SHARE = 0.15;

    private static final TaskClass CLASS = TaskClass.of(false, false, 500);

    /** One endpoint of the simulation: what the strategy must discover. */
    record Arm(String model, String endpoint, double usdPerMillion, long p50Micros, double quality) {
        String id() {
            return model + "@" + endpoint;
        }
    }

    /**
     * {@code smart} over four endpoints of one model. Utility with the defaults (cost 0.2 × share of
     * the dearest, latency 0.1 × share of the slowest): east 0.613, west 0.716, budget 0.564,
     * far 0.600. West is best by 0.10; when it drops to 0.60 (utility 0.396) east is.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void smartConvergesOnTheBestEndpointAndLeavesItWhenItDegrades(long seed) {
        List<Arm> arms = List.of(
                new Arm("sim/alpha", "east", 1.0, 300_000, 0.78),
                new Arm("sim/alpha", "west", 1.2, 400_000, 0.92),
                new Arm("sim/alpha", "budget", 0.6, 500_000, 0.65),
                new Arm("sim/alpha", "far", 1.5, 900_000, 0.85));

        Run run = simulate("smart", "sim/alpha", arms, "sim/alpha@west", 0.60, seed);

        run.assertConverged("sim/alpha@west");
        run.assertAdapted("sim/alpha@west");
        run.assertStaysAway("sim/alpha@west");
    }

    /**
     * {@code auto} over three models whose prices span 100×, with the default cost weight of 0.1
     * per decade above the cheapest: small 0.55, medium@east 0.75, medium@west 0.65, large 0.68 (all
     * equally fast, so once measured each pays the same 0.1 for latency). Medium@east is best by
     * 0.07; when it drops to 0.50 (utility 0.40) large is.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void autoConvergesOnTheBestModelAndLeavesItWhenItDegrades(long seed) {
        List<Arm> arms = List.of(
                new Arm("sim/small", "east", 0.1, 300_000, 0.55),
                new Arm("sim/medium", "east", 1.0, 300_000, 0.85),
                new Arm("sim/medium", "west", 1.0, 300_000, 0.70),
                new Arm("sim/large", "east", 10, 300_000, 0.88));

        Run run = simulate("auto", "auto", arms, "sim/medium@east", 0.50, seed);

        run.assertConverged("sim/medium@east");
        run.assertAdapted("sim/medium@east");
        run.assertStaysAway("sim/medium@east");
    }

    @ParameterizedTest
    @ValueSource(strings = {"smart", "auto"})
    void aSeededRunReplaysExactly(String strategy) {
        List<Arm> arms = List.of(
                new Arm("sim/alpha", "east", 1.0, 300_000, 0.7), new Arm("sim/alpha", "west", 1.2, 400_000, 0.8));

        assertEquals(
                simulate(strategy, "sim/alpha", arms, "sim/alpha@west", 0.5, 7).picks,
                simulate(strategy, "sim/alpha", arms, "sim/alpha@west", 0.5, 7).picks);
    }

    /** Picks (candidate ids) of {@link #LEARN} requests, then {@link #AFTER_DROP} with one arm degraded. */
    record Run(String strategy, long seed, String degraded, List<String> picks) {
        double share(String id, int from, int to) {
            int n = 0;
            for (int i = from; i < to; i++) {
                n += picks.get(i).equals(id) ? 1 : 0;
            }
            return (double) n / (to - from);
        }

        double shareAfterDrop(String id, int from, int to) {
            return share(id, LEARN + from, LEARN + to);
        }

        /** Requests after the drop until the degraded endpoint's trailing-window share falls below the bar. */
        int adaptation(String id) {
            for (int end = ABANDONED_WINDOW; end <= AFTER_DROP; end++) {
                if (shareAfterDrop(id, end - ABANDONED_WINDOW, end) < ABANDONED_SHARE) {
                    return end;
                }
            }
            return Integer.MAX_VALUE;
        }

        void assertConverged(String id) {
            double share = share(id, LEARN - CONVERGED_WINDOW, LEARN);
            assertTrue(
                    share >= CONVERGED_SHARE,
                    strategy + " seed " + seed + ": " + id + " got " + share
                            + " of the last " + CONVERGED_WINDOW + " requests before the drop (expected: >= "
                            + CONVERGED_SHARE + ")");
        }

        void assertAdapted(String id) {
            int requests = adaptation(id);
            assertTrue(
                    requests <= ADAPTATION_BOUND,
                    strategy + " seed " + seed + ": " + id
                            + " kept a share >= " + ABANDONED_SHARE + " of " + ABANDONED_WINDOW + " requests until "
                            + requests + " requests after its drop (expected: <= " + ADAPTATION_BOUND + ")");
        }

        /** Each endpoint's share of a window of requests, for failure messages. */
        String shares(int from, int to) {
            Map<String, Double> shares = new TreeMap<>();
            for (String id : new TreeSet<>(picks)) {
                shares.put(id, Math.round(share(id, from, to) * 1000) / 1000.0);
            }
            return "requests " + from + ".." + to + ": " + shares;
        }

        /** In the last 500 requests the degraded endpoint gets at most a few exploratory picks. */
        void assertStaysAway(String id) {
            double share = shareAfterDrop(id, AFTER_DROP - 500, AFTER_DROP);
            assertTrue(
                    share < STAYS_AWAY_SHARE,
                    id + " must stay below " + STAYS_AWAY_SHARE + " of the last 500 requests," + " got " + share + ": "
                            + this);
        }

        @Override
        public String toString() {
            return strategy + " seed " + seed + ", " + shares(LEARN - CONVERGED_WINDOW, LEARN) + ", "
                    + shares(LEARN, LEARN + 200) + ", " + shares(LEARN + 200, LEARN + 500) + ", "
                    + shares(LEARN + 500, LEARN + AFTER_DROP) + ", adapted after " + adaptation(degraded) + " requests";
        }
    }

    /**
     * Runs {@link #LEARN} requests, drops the true quality of the arm {@code degrade} (a candidate
     * id) to {@code degradedQuality}, and runs {@link #AFTER_DROP} more.
     */
    static Run simulate(
            String strategyName, String model, List<Arm> arms, String degrade, double degradedQuality, long seed) {
        RoutingStrategy strategy = load(strategyName);
        Learning store = Learning.onHeap(LearningSettings.DEFAULTS);
        SplittableRandom routing = new SplittableRandom(seed);
        SplittableRandom world = new SplittableRandom(seed * 31 + 17);
        double[] quality = arms.stream().mapToDouble(Arm::quality).toArray();
        long[] answered = new long[arms.size()];
        List<String> picks = new ArrayList<>(LEARN + AFTER_DROP);

        for (int step = 0; step < LEARN + AFTER_DROP; step++) {
            if (step == LEARN) {
                for (int i = 0; i < arms.size(); i++) {
                    if (arms.get(i).id().equals(degrade)) {
                        quality[i] = degradedQuality;
                    }
                }
            }
            RouteRequest request = RouteRequest.builder()
                    .requestId("req-" + step)
                    .tenant("acme")
                    .model(model)
                    .variant(strategyName)
                    .taskClass(CLASS)
                    .estimatedInputTokens(500)
                    .maxTokens(300)
                    .build();
            List<Candidate> candidates = new ArrayList<>(arms.size());
            for (int i = 0; i < arms.size(); i++) {
                candidates.add(candidate(
                        arms.get(i), store.posterior("acme", arms.get(i).id(), CLASS), answered[i]));
            }
            Candidate first = strategy.route(request, candidates, routing).first();
            int arm = candidates.indexOf(first);
            double score = world.nextDouble() < quality[arm] ? 1 : 0;
            store.answered("acme", first.id(), CLASS, score, step);
            answered[arm]++;
            picks.add(first.id());
        }
        return new Run(strategyName, seed, degrade, picks);
    }

    /** What the core would pass: the store's belief, and latency once the endpoint has answered. */
    static Candidate candidate(Arm arm, Posterior belief, long answered) {
        LatencyStats latency = answered == 0
                ? LatencyStats.EMPTY
                : LatencyStats.of(answered, arm.p50Micros(), arm.p50Micros() * 2, arm.p50Micros() * 3);
        EndpointStats stats = EndpointStats.builder()
                .requests(answered)
                .latency(latency)
                .quality(belief.alpha(), belief.beta())
                .build();
        long price = Math.round(arm.usdPerMillion() * 1e9);
        return Candidate.builder()
                .id(arm.id())
                .endpoint(arm.endpoint())
                .model(arm.model())
                .inputNanoUsdPerMillion(price)
                .outputNanoUsdPerMillion(price)
                .capabilities(Set.of("tools", "json"))
                .contextLength(128_000)
                .maxOutputTokens(4_096)
                .stats(stats)
                .build();
    }

    static RoutingStrategy load(String name) {
        return ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no strategy provider named " + name + " on the class path"))
                .create(StrategyConfig.empty(name));
    }
}
