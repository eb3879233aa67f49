package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.strategy.smart.ThompsonSampling.CostScale;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The routing-quality report (docs/architecture.md §5, docs/routing.md): how much {@code smart}
 * and {@code auto}, with the gateway's own {@link Learning}, lose to hindsight, and how fast they
 * follow a change. Prints Markdown tables on stdout.
 *
 * <ol>
 *   <li><b>Simulation.</b> The scenarios of {@code RoutingSimulationTest}, run for
 *       {@code --requests} (20,000) with the best endpoint's quality dropped half-way, 10 seeds.
 *       Utility of a pick = its true quality − the strategy's own cost and latency penalties.
 *       Regret is expected utility lost against the best fixed endpoint (the one with the highest
 *       total over the run), against the oracle that knows every endpoint's current quality (and
 *       so the drop), and realised utility lost against the per-request oracle that knows which
 *       endpoint answers each request well (every endpoint's outcome is drawn for every request).
 *       Adaptation = requests after the drop until the degraded endpoint's share of the trailing
 *       100 falls below 20 %.</li>
 *   <li><b>Replay</b> ({@link RecordedReplay}): {@code auto} on the recorded answers of real
 *       models in {@code --data}, stationary and with the leading model degraded three ways, over
 *       {@code --seeds} seeded orders; then a sweep of the detector's threshold and the
 *       re-exploration share, and the issue's targets.</li>
 * </ol>
 *
 * Both run every {@link #LEARNERS learning variant}: the defaults (change detection, no
 * discount), plain Thompson sampling (no detector, no discount), and no detector with discount
 * 0.995 (the old default) or 0.99. One tenant; one answer of weight 1 per request
 * ({@link Learning#answered}, as the core records the scorer's score); the quality a candidate
 * shows is {@link Learning#posterior(String, String, TaskClass, double)} with a uniform probe
 * draw per request and candidate, as the router makes them.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.brainstorm.proxy.bench.RoutingRegret \
 *     [--data DIR] [--requests 20000] [--seeds 20] [--seed 1]
 * </pre>
 *
 * {@code --data} defaults to {@code benchmarks/routing-data}, found from the working directory
 * (the repository root, {@code benchmarks/}, or any folder below the root); without it only the
 * simulation runs.
 *
 * <p><b>Threading:</b> single-threaded, a command-line tool. <b>Errors:</b> a bad option is an
 * {@link IllegalArgumentException} naming the options there are.
 */
public final class RoutingRegret {
    static final int WINDOW = 100;
    static final double ABANDONED = 0.2;

    /** Learning settings under a name: one row per strategy and scenario. */
    record Learner(String name, LearningSettings settings) {}

    /** The learning variants both parts compare; the first is the gateway's defaults. */
    static final List<Learner> LEARNERS = List.of(
            new Learner("change detection (default)", LearningSettings.DEFAULTS),
            new Learner("plain Thompson", LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF)),
            new Learner(
                    "no detector, discount 0.995 (the old default)",
                    LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF).withDiscount(0.995)),
            new Learner(
                    "no detector, discount 0.99",
                    LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF).withDiscount(0.99)));

    /** Kept so the level holds: one log line per detector firing would drown the tables' stderr. */
    private static final java.util.logging.Logger LEARNING_LOG =
            java.util.logging.Logger.getLogger(Learning.class.getName());

    private RoutingRegret() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = options(args);
        LEARNING_LOG.setLevel(java.util.logging.Level.WARNING);
        int requests = Integer.parseInt(opts.getOrDefault("requests", "20000"));
        int seeds = Integer.parseInt(opts.getOrDefault("seeds", "20"));
        long seed = Long.parseLong(opts.getOrDefault("seed", "1"));
        String dataOption = opts.get("data");
        Path data = dataOption != null ? Path.of(dataOption) : RecordedReplay.defaultData();

        System.out.println("### Simulation: " + requests + " requests, quality drop at " + requests / 2 + ", seeds "
                + seed + ".." + (seed + 9) + "\n");
        System.out.println("| strategy | scenario | learning | mean utility | regret vs best fixed"
                + " | regret vs oracle (qualities) | regret vs per-request oracle | regret after the drop (vs oracle)"
                + " | adaptation, requests (median / max of 10) |");
        System.out.println("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Scenario s : List.of(Scenario.smart(), Scenario.auto())) {
            for (Learner l : LEARNERS) {
                simulateMany(s, l, requests, seed);
            }
        }

        if (data == null) {
            System.out.println("\n(no --data DIR of recorded answers, and no benchmarks/routing-data found from "
                    + Path.of("").toAbsolutePath() + ": the replay is skipped; benchmarks/README.md)");
        } else {
            RecordedReplay.run(data, seeds, seed);
        }
    }

    // ---------------------------------------------------------------- simulation

    /** An endpoint with a known quality, price and latency. */
    record Arm(String model, String endpoint, double usdPerMillion, long p50Micros, double quality) {
        String id() {
            return model + "@" + endpoint;
        }
    }

    /** A strategy, its arms, the arm that degrades half-way and to what. */
    record Scenario(
            String name,
            String strategy,
            String model,
            CostScale scale,
            double costWeight,
            double latencyWeight,
            List<Arm> arms,
            int degraded,
            double degradedQuality) {
        static Scenario smart() {
            return new Scenario(
                    "smart: 4 endpoints of one model",
                    "smart",
                    "sim/alpha",
                    CostScale.RELATIVE_TO_DEAREST,
                    0.2,
                    0.1,
                    List.of(
                            new Arm("sim/alpha", "east", 1.0, 300_000, 0.78),
                            new Arm("sim/alpha", "west", 1.2, 400_000, 0.92),
                            new Arm("sim/alpha", "budget", 0.6, 500_000, 0.65),
                            new Arm("sim/alpha", "far", 1.5, 900_000, 0.85)),
                    1,
                    0.60);
        }

        static Scenario auto() {
            return new Scenario(
                    "auto: 3 models, prices 1x/10x/100x",
                    "auto",
                    "auto",
                    CostScale.DECADES_ABOVE_CHEAPEST,
                    0.1,
                    0.1,
                    List.of(
                            new Arm("sim/small", "east", 0.1, 300_000, 0.55),
                            new Arm("sim/medium", "east", 1.0, 300_000, 0.85),
                            new Arm("sim/medium", "west", 1.0, 300_000, 0.70),
                            new Arm("sim/large", "east", 10, 300_000, 0.88)),
                    1,
                    0.50);
        }

        Scenario named(String newName) {
            return new Scenario(
                    newName, strategy, model, scale, costWeight, latencyWeight, arms, degraded, degradedQuality);
        }

        /** The penalty an arm pays in utility, as the strategy computes it once every arm is measured. */
        double penalty(int arm) {
            double cheapest = Double.MAX_VALUE;
            double dearest = 0;
            long slowest = 0;
            for (Arm a : arms) {
                cheapest = Math.min(cheapest, a.usdPerMillion);
                dearest = Math.max(dearest, a.usdPerMillion);
                slowest = Math.max(slowest, a.p50Micros);
            }
            Arm a = arms.get(arm);
            double share = scale.share(
                    Math.round(a.usdPerMillion * 1e6), Math.round(cheapest * 1e6), Math.round(dearest * 1e6));
            return costWeight * share + latencyWeight * a.p50Micros / slowest;
        }
    }

    /** Regret figures of one run. */
    record SimResult(
            double meanUtility,
            double vsFixed,
            double vsOracle,
            double vsPerRequest,
            double afterDrop,
            int adaptation) {}

    static void simulateMany(Scenario s, Learner learner, int requests, long seed) {
        int runs = 10;
        SimResult[] results = new SimResult[runs];
        for (int i = 0; i < runs; i++) {
            results[i] = simulate(s, learner.settings(), requests, seed + i);
        }
        int[] adaptation =
                Arrays.stream(results).mapToInt(SimResult::adaptation).sorted().toArray();
        System.out.printf(
                Locale.ROOT,
                "| %s | %s | %s | %.3f | %.0f | %.0f | %.0f | %.0f | %s / %s |%n",
                s.strategy,
                s.name,
                learner.name(),
                mean(results, SimResult::meanUtility),
                mean(results, SimResult::vsFixed),
                mean(results, SimResult::vsOracle),
                mean(results, SimResult::vsPerRequest),
                mean(results, SimResult::afterDrop),
                count(adaptation[runs / 2]),
                count(adaptation[runs - 1]));
    }

    static SimResult simulate(Scenario s, LearningSettings settings, int requests, long seed) {
        RoutingStrategy strategy = load(
                s.strategy,
                Map.of(
                        "cost_weight",
                        Double.toString(s.costWeight),
                        "latency_weight",
                        Double.toString(s.latencyWeight)));
        Learning store = Learning.onHeap(settings);
        SplittableRandom routing = new SplittableRandom(seed);
        SplittableRandom probes = new SplittableRandom(~seed);
        SplittableRandom world = new SplittableRandom(seed * 31 + 17);
        TaskClass tc = TaskClass.of(false, false, 500);
        int n = s.arms.size();
        double[] penalty = new double[n];
        for (int i = 0; i < n; i++) {
            penalty[i] = s.penalty(i);
        }
        long[] answered = new long[n];
        double[] fixedTotal = new double[n];
        double chosen = 0;
        double oracle = 0;
        double perRequestOracle = 0;
        double realised = 0;
        double lostAfterDrop = 0;
        int drop = requests / 2;
        int[] degradedPicks = new int[requests];
        int adaptation = -1;
        for (int t = 0; t < requests; t++) {
            double[] quality = new double[n];
            for (int i = 0; i < n; i++) {
                quality[i] = t >= drop && i == s.degraded ? s.degradedQuality : s.arms.get(i).quality;
            }
            List<Candidate> candidates = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Arm a = s.arms.get(i);
                candidates.add(candidate(
                        a.id(),
                        a.endpoint,
                        a.model,
                        Math.round(a.usdPerMillion * 1e9),
                        store.posterior("sim", a.id(), tc, probes.nextDouble()),
                        answered[i] == 0
                                ? LatencyStats.EMPTY
                                : LatencyStats.of(answered[i], a.p50Micros, a.p50Micros * 2, a.p50Micros * 3)));
            }
            RouteRequest request = RouteRequest.builder()
                    .requestId("r" + t)
                    .tenant("sim")
                    .model(s.model)
                    .variant(s.strategy)
                    .taskClass(tc)
                    .estimatedInputTokens(500)
                    .maxTokens(300)
                    .build();
            int pick = candidates.indexOf(
                    strategy.route(request, candidates, routing).first());

            double best = -Double.MAX_VALUE;
            double bestRealised = -Double.MAX_VALUE;
            double pickRealised = 0;
            for (int i = 0; i < n; i++) {
                double u = quality[i] - penalty[i];
                fixedTotal[i] += u;
                best = Math.max(best, u);
                double outcome = world.nextDouble() < quality[i] ? 1 : 0; // every arm's answer to this request
                bestRealised = Math.max(bestRealised, outcome - penalty[i]);
                if (i == pick) {
                    pickRealised = outcome;
                }
            }
            double u = quality[pick] - penalty[pick];
            chosen += u;
            oracle += best;
            perRequestOracle += bestRealised;
            realised += pickRealised - penalty[pick];
            if (t >= drop) {
                lostAfterDrop += best - u;
            }
            store.answered("sim", candidates.get(pick).id(), tc, pickRealised, t);
            answered[pick]++;
            degradedPicks[t] = pick == s.degraded ? 1 : 0;
            if (adaptation < 0 && t >= drop + WINDOW - 1 && windowShare(degradedPicks, t) < ABANDONED) {
                adaptation = t + 1 - drop;
            }
        }
        double bestFixed = Arrays.stream(fixedTotal).max().orElseThrow();
        return new SimResult(
                chosen / requests,
                bestFixed - chosen,
                oracle - chosen,
                perRequestOracle - realised,
                lostAfterDrop,
                adaptation < 0 ? Integer.MAX_VALUE : adaptation);
    }

    // ---------------------------------------------------------------- helpers

    static Candidate candidate(
            String id, String endpoint, String model, long nanoPerMillion, Posterior belief, LatencyStats latency) {
        return Candidate.builder()
                .id(id)
                .endpoint(endpoint)
                .model(model)
                .inputNanoUsdPerMillion(nanoPerMillion)
                .outputNanoUsdPerMillion(nanoPerMillion)
                .capabilities(Set.of("tools", "json"))
                .contextLength(128_000)
                .maxOutputTokens(4_096)
                .stats(stats(belief, latency))
                .build();
    }

    static EndpointStats stats(Posterior belief, LatencyStats latency) {
        return EndpointStats.builder()
                .requests(latency.count())
                .latency(latency)
                .quality(belief.alpha(), belief.beta())
                .build();
    }

    static RoutingStrategy load(String name, Map<String, String> settings) {
        return ServiceLoader.load(RoutingStrategyProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no strategy provider " + name + " on the class path"))
                .create(StrategyConfig.of(name, settings));
    }

    /** The share of 1s among {@code picks} in the {@link #WINDOW} up to {@code end}. */
    static double windowShare(int[] picks, int end) {
        int sum = 0;
        for (int i = end - WINDOW + 1; i <= end; i++) {
            sum += picks[i];
        }
        return (double) sum / WINDOW;
    }

    static String count(int n) {
        return n == Integer.MAX_VALUE ? "never" : Integer.toString(n);
    }

    static <T> double mean(T[] xs, java.util.function.ToDoubleFunction<T> f) {
        return Arrays.stream(xs).mapToDouble(f).average().orElse(Double.NaN);
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 == args.length
                    || !Set.of("--data", "--requests", "--seeds", "--seed").contains(args[i])) {
                throw new IllegalArgumentException(
                        args[i] + " (expected: --data, --requests, --seeds or --seed," + " each with a value)");
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }
}
