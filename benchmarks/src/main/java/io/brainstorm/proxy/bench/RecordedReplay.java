package io.brainstorm.proxy.bench;

import static io.brainstorm.proxy.bench.RoutingRegret.LEARNERS;
import static io.brainstorm.proxy.bench.RoutingRegret.count;
import static io.brainstorm.proxy.bench.RoutingRegret.load;
import static io.brainstorm.proxy.bench.RoutingRegret.mean;
import static io.brainstorm.proxy.bench.RoutingRegret.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.bench.RoutingRegret.Learner;
import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.LatencyStats;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.TaskClass;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * The replay part of {@link RoutingRegret}: the gateway's {@code auto} strategy and its
 * {@link Learning} on the recorded answers of real models ({@code benchmarks/routing-data}:
 * RouterArena and RouteLLM GSM8K, two models each). Prints Markdown tables on stdout.
 *
 * <p>A run is {@value #REQUESTS} sequential requests of one tenant, the queries drawn by cycling
 * through a seeded shuffle of the file. Each request is routed by {@code auto} over the two models
 * (prices from {@code prices.json}; the quality each candidate shows is
 * {@link Learning#posterior(String, String, TaskClass, double)} with one uniform probe draw per
 * request and candidate, as {@code Router} makes them), and is followed by
 * {@link Learning#answered} with the recorded score of the model picked. Scenarios, each on the
 * leading model (the one with the best recorded accuracy): stationary; all its scores 0 from
 * request {@value #CHANGE_AT} on; 0 on a fixed half of the queries (a seeded hash of the query id)
 * from request {@value #CHANGE_AT} on; 0 from {@value #CHANGE_AT} to {@value #RECOVERED_AT}, then its
 * recorded scores again.
 *
 * <p>Figures per run, averaged over the seeds: accuracy (mean score of the picks), cost (recorded
 * USD), regret in utility = score − λ × USD against the best fixed model and the per-query oracle
 * (both on the scenario's scores), each model's share, the adaptation lag (requests after the
 * change until the leading model's share of the next {@value #LAG_WINDOW} requests is below 10 %)
 * and the recovery lag (requests after {@value #RECOVERED_AT} until its share of the next
 * {@value #LAG_WINDOW} is above 50 %), median and max over seeds, and how often the change
 * detector fired on the tenant's beliefs.
 *
 * <p><b>Threading:</b> single-threaded, a command-line tool. <b>Errors:</b> an unreadable or
 * malformed file is an {@link IOException}; a missing {@code .jsonl} file is reported and skipped.
 */
final class RecordedReplay {
    /** Requests per run. */
    static final int REQUESTS = 2_000;
    /** The first request the leading model degrades on. */
    static final int CHANGE_AT = 250;
    /** The first request it answers well again on, in the recovery scenario. */
    static final int RECOVERED_AT = 1_000;
    /** Requests over which a lag looks at the share of picks. */
    static final int LAG_WINDOW = 50;
    /** A model is gone once its share of the window is below this. */
    static final double GONE = 0.1;
    /** And back once above this. */
    static final double BACK = 0.5;
    /** {@code auto}'s default cost weight. */
    static final double COST_WEIGHT = 0.1;

    private static final String TENANT = "replay";
    private static final String ENDPOINT = "recorded";
    private static final long HALF_SEED = 16;
    private static final String ARENA = "routerarena_sub10.jsonl";
    private static final String GSM8K = "routellm_gsm8k.jsonl";

    /** A recorded file and the price λ (utility per USD) its regret is counted at. */
    record Dataset(String file, double lambda) {}

    static final List<Dataset> DATASETS = List.of(new Dataset(ARENA, 100), new Dataset(GSM8K, 10));

    /** What happens to the leading model's scores during a run. */
    enum Scenario {
        STATIONARY("stationary"),
        ALL_WRONG("all wrong: the leading model's scores are 0 from request " + CHANGE_AT + " on"),
        HALF_WRONG("50 % wrong: the leading model's scores are 0 on a fixed half of the queries from request "
                + CHANGE_AT + " on"),
        RECOVERY("recovery: the leading model's scores are 0 from request " + CHANGE_AT + " to " + RECOVERED_AT
                + ", then recorded again");

        final String title;

        Scenario(String title) {
            this.title = title;
        }

        /** Whether the leading model's score on {@code q} at request {@code t} is 0. */
        boolean zeroed(int t, Query q) {
            return switch (this) {
                case STATIONARY -> false;
                case ALL_WRONG -> t >= CHANGE_AT;
                case HALF_WRONG -> t >= CHANGE_AT && q.inHalf();
                case RECOVERY -> t >= CHANGE_AT && t < RECOVERED_AT;
            };
        }
    }

    /** Learning settings and {@code auto}'s cost weight: one row of a table. */
    record Variant(String name, LearningSettings settings, double costWeight) {
        static Variant of(Learner l) {
            return new Variant(l.name(), l.settings(), COST_WEIGHT);
        }

        Key key() {
            return new Key(settings, costWeight);
        }
    }

    /** What a run depends on besides the data, the scenario and the seed. */
    record Key(LearningSettings settings, double costWeight) {}

    private RecordedReplay() {}

    /** Replays each dataset found in {@code data}; says so and skips one that is missing. */
    static void run(Path data, int seeds, long seed) throws IOException {
        JsonNode prices =
                new ObjectMapper().readTree(data.resolve("prices.json").toFile());
        Map<String, Replay> done = new HashMap<>();
        for (Dataset d : DATASETS) {
            Path path = data.resolve(d.file);
            if (!Files.exists(path)) {
                System.out.println("\n(" + path + " not found: replay skipped)");
                continue;
            }
            Replay r = new Replay(d, Recorded.read(path, prices), seeds, seed);
            r.print();
            done.put(d.file, r);
        }
        Replay arena = done.get(ARENA);
        Replay gsm8k = done.get(GSM8K);
        if (arena != null && gsm8k != null) {
            sweep(arena, gsm8k);
            targets(arena, gsm8k);
        }
    }

    // ---------------------------------------------------------------- the data

    /** One dataset: model names, their prices, and per query every model's score and cost. */
    record Recorded(List<String> models, long[] inputNanoPerM, long[] outputNanoPerM, List<Query> queries) {
        static Recorded read(Path file, JsonNode prices) throws IOException {
            ObjectMapper mapper = new ObjectMapper();
            List<Query> queries = new ArrayList<>();
            List<String> models = null;
            try (BufferedReader in = Files.newBufferedReader(file)) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode row = mapper.readTree(line);
                    JsonNode m = row.get("models");
                    if (models == null) {
                        models = new ArrayList<>();
                        for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                            models.add(it.next());
                        }
                    }
                    double[] score = new double[models.size()];
                    double[] cost = new double[models.size()];
                    long tokens = 0;
                    for (int i = 0; i < models.size(); i++) {
                        JsonNode r = m.get(models.get(i));
                        score[i] = r.get("score").asDouble();
                        cost[i] = r.get("cost").asDouble();
                        tokens += r.get("input_tokens").asLong();
                    }
                    queries.add(new Query(row.get("id").asText(), tokens / models.size(), score, cost, false));
                }
            }
            if (models == null) {
                throw new IOException(file + ": no queries (expected: one JSON object per line)");
            }
            long[] in = new long[models.size()];
            long[] out = new long[models.size()];
            for (int i = 0; i < models.size(); i++) {
                JsonNode p = prices.get("models").get(models.get(i));
                in[i] = Math.round(p.get("input").asDouble() * 1e9);
                out[i] = Math.round(p.get("output").asDouble() * 1e9);
            }
            return new Recorded(List.copyOf(models), in, out, halved(queries));
        }

        /** The queries, the half with the lowest seeded hash of their id marked {@link Query#inHalf}. */
        static List<Query> halved(List<Query> queries) {
            int[] order = IntStream.range(0, queries.size())
                    .boxed()
                    .sorted(Comparator.comparingLong(i -> idHash(queries.get(i).id)))
                    .mapToInt(Integer::intValue)
                    .toArray();
            Query[] out = queries.toArray(new Query[0]);
            for (int k = 0; k < order.length / 2; k++) {
                Query q = out[order[k]];
                out[order[k]] = new Query(q.id, q.inputTokens, q.score, q.cost, true);
            }
            return List.of(out);
        }

        private static long idHash(String id) {
            return new SplittableRandom(HALF_SEED ^ id.hashCode()).nextLong();
        }

        /** The model with the best mean score over all queries. */
        int leading() {
            int best = 0;
            for (int i = 1; i < models.size(); i++) {
                best = accuracy(i) > accuracy(best) ? i : best;
            }
            return best;
        }

        private double accuracy(int model) {
            return queries.stream().mapToDouble(q -> q.score[model]).average().orElse(0);
        }
    }

    /**
     * One recorded query: its id, the prompt size, each model's score and cost (USD), and whether
     * it is in the half the 50 % scenario zeroes.
     */
    record Query(String id, long inputTokens, double[] score, double[] cost, boolean inHalf) {}

    /** The requests of one run: the query of each and each model's score under the scenario. */
    record Requests(Query[] query, double[][] score) {
        static Requests of(Recorded data, Scenario scenario, int leading, long seed) {
            List<Query> order = shuffled(data.queries, seed);
            Query[] query = new Query[REQUESTS];
            double[][] score = new double[REQUESTS][];
            for (int t = 0; t < REQUESTS; t++) {
                Query q = order.get(t % order.size());
                query[t] = q;
                score[t] = q.score.clone();
                if (scenario.zeroed(t, q)) {
                    score[t][leading] = 0;
                }
            }
            return new Requests(query, score);
        }

        double utility(int t, int model, double lambda) {
            return score[t][model] - lambda * query[t].cost[model];
        }
    }

    /** A run's figures. Lags are in requests, {@link Integer#MAX_VALUE} for never, -1 where undefined. */
    record Figures(
            double accuracy,
            double costUsd,
            double regretFixed,
            double regretOracle,
            double[] share,
            int lag,
            int recoveryLag,
            long firings) {}

    /** What {@code auto} picked on each request, and how often the tenant's beliefs were reset. */
    record Routed(int[] picks, long firings) {}

    // ---------------------------------------------------------------- one dataset

    /** One dataset's runs, each computed once. */
    static final class Replay {
        final Dataset dataset;
        final Recorded data;
        final int leading;
        final int seeds;
        final long seed;
        private final Map<Scenario, Requests[]> requests = new EnumMap<>(Scenario.class);
        private final Map<Scenario, Map<Key, Figures[]>> runs = new EnumMap<>(Scenario.class);
        private final Map<Double, RoutingStrategy> strategies = new HashMap<>();

        Replay(Dataset dataset, Recorded data, int seeds, long seed) {
            this.dataset = dataset;
            this.data = data;
            this.leading = data.leading();
            this.seeds = seeds;
            this.seed = seed;
        }

        String model(int i) {
            return data.models.get(i);
        }

        Requests[] requests(Scenario s) {
            return requests.computeIfAbsent(s, x -> {
                Requests[] out = new Requests[seeds];
                for (int k = 0; k < seeds; k++) {
                    out[k] = Requests.of(data, x, leading, seed + k);
                }
                return out;
            });
        }

        /** {@code auto} with {@code v}'s learning, over every seed. */
        Figures[] run(Scenario s, Variant v) {
            return runs.computeIfAbsent(s, x -> new HashMap<>()).computeIfAbsent(v.key(), k -> {
                Requests[] rs = requests(s);
                Figures[] out = new Figures[seeds];
                for (int i = 0; i < seeds; i++) {
                    Routed routed = route(rs[i], v, seed + i);
                    out[i] = measure(s, rs[i], routed.picks, routed.firings);
                }
                return out;
            });
        }

        /** Always {@code model}, or with -1 the per-query oracle (highest utility, lower index on ties). */
        Figures[] reference(Scenario s, int model) {
            Requests[] rs = requests(s);
            Figures[] out = new Figures[seeds];
            for (int i = 0; i < seeds; i++) {
                Requests r = rs[i];
                int[] picks = new int[REQUESTS];
                for (int t = 0; t < REQUESTS; t++) {
                    picks[t] = model >= 0 ? model : oracle(r, t);
                }
                out[i] = measure(s, r, picks, 0);
            }
            return out;
        }

        private int oracle(Requests r, int t) {
            int best = 0;
            for (int i = 1; i < data.models.size(); i++) {
                if (r.utility(t, i, dataset.lambda) > r.utility(t, best, dataset.lambda)) {
                    best = i;
                }
            }
            return best;
        }

        /** The model {@code auto} picks for each request, learning from each recorded score. */
        private Routed route(Requests r, Variant v, long runSeed) {
            RoutingStrategy auto = strategies.computeIfAbsent(
                    v.costWeight, w -> load("auto", Map.of("cost_weight", Double.toString(w))));
            Learning learning = Learning.onHeap(v.settings);
            SplittableRandom routing = new SplittableRandom(runSeed);
            SplittableRandom probes = new SplittableRandom(~runSeed);
            int m = data.models.size();
            String[] ids = new String[m];
            for (int i = 0; i < m; i++) {
                ids[i] = model(i) + "@" + ENDPOINT;
            }
            int[] picks = new int[REQUESTS];
            List<Candidate> candidates = new ArrayList<>(m);
            for (int t = 0; t < REQUESTS; t++) {
                Query q = r.query[t];
                TaskClass tc = TaskClass.of(false, false, q.inputTokens);
                candidates.clear();
                for (int i = 0; i < m; i++) {
                    candidates.add(Candidate.builder()
                            .id(ids[i])
                            .endpoint(ENDPOINT)
                            .model(model(i))
                            .inputNanoUsdPerMillion(data.inputNanoPerM[i])
                            .outputNanoUsdPerMillion(data.outputNanoPerM[i])
                            .capabilities(Set.of("tools", "json"))
                            .contextLength(128_000)
                            .maxOutputTokens(4_096)
                            .stats(stats(
                                    learning.posterior(TENANT, ids[i], tc, probes.nextDouble()), LatencyStats.EMPTY))
                            .build());
                }
                RouteRequest request = RouteRequest.builder()
                        .requestId("q" + t)
                        .tenant(TENANT)
                        .model("auto")
                        .variant("auto")
                        .taskClass(tc)
                        .estimatedInputTokens(q.inputTokens)
                        .build();
                int pick = candidates.indexOf(
                        auto.route(request, candidates, routing).first());
                picks[t] = pick;
                learning.answered(TENANT, ids[pick], tc, r.score[t][pick], t);
            }
            return new Routed(
                    picks, learning.resets(true, Belief.Direction.DOWN) + learning.resets(true, Belief.Direction.UP));
        }

        private Figures measure(Scenario s, Requests r, int[] picks, long firings) {
            int m = data.models.size();
            double[] fixed = new double[m];
            double[] share = new double[m];
            double oracle = 0;
            double utility = 0;
            double accuracy = 0;
            double cost = 0;
            for (int t = 0; t < REQUESTS; t++) {
                double best = -Double.MAX_VALUE;
                for (int i = 0; i < m; i++) {
                    double u = r.utility(t, i, dataset.lambda);
                    fixed[i] += u;
                    best = Math.max(best, u);
                }
                int p = picks[t];
                oracle += best;
                utility += r.utility(t, p, dataset.lambda);
                accuracy += r.score[t][p] / REQUESTS;
                cost += r.query[t].cost[p];
                share[p] += 1.0 / REQUESTS;
            }
            int lag = switch (s) {
                case STATIONARY -> -1;
                case ALL_WRONG, HALF_WRONG -> lag(picks, leading, CHANGE_AT, REQUESTS, true);
                case RECOVERY -> lag(picks, leading, CHANGE_AT, RECOVERED_AT, true);
            };
            int recoveryLag = s == Scenario.RECOVERY ? lag(picks, leading, RECOVERED_AT, REQUESTS, false) : -1;
            double bestFixed = Arrays.stream(fixed).max().orElseThrow();
            return new Figures(accuracy, cost, bestFixed - utility, oracle - utility, share, lag, recoveryLag, firings);
        }

        /**
         * Requests after {@code from} until {@code model}'s share of the next {@value #LAG_WINDOW}
         * (ending by {@code until}) is below {@link #GONE} ({@code gone}) or above {@link #BACK};
         * {@link Integer#MAX_VALUE} if it never is.
         */
        static int lag(int[] picks, int model, int from, int until, boolean gone) {
            int inWindow = 0;
            for (int t = from; t < from + LAG_WINDOW; t++) {
                inWindow += picks[t] == model ? 1 : 0;
            }
            for (int k = 0; from + k + LAG_WINDOW <= until; k++) {
                double share = (double) inWindow / LAG_WINDOW;
                if (gone ? share < GONE : share > BACK) {
                    return k;
                }
                int leaving = from + k;
                int entering = from + k + LAG_WINDOW;
                inWindow -= picks[leaving] == model ? 1 : 0;
                inWindow += entering < picks.length && picks[entering] == model ? 1 : 0;
            }
            return Integer.MAX_VALUE;
        }

        void print() {
            System.out.printf(
                    Locale.ROOT,
                    "%n### Replay: %s (%d queries × %d models; %d requests per run, cycling through a seeded shuffle;"
                            + " %d seeds; λ = %.0f per USD; leading model %s)%n",
                    dataset.file,
                    data.queries.size(),
                    data.models.size(),
                    REQUESTS,
                    seeds,
                    dataset.lambda,
                    model(leading));
            for (Scenario s : Scenario.values()) {
                System.out.println("\n#### " + s.title + "\n");
                System.out.println("| router | accuracy | cost USD | regret vs best fixed | regret vs oracle"
                        + " | share per model | lag (median / max) | recovery lag (median / max)"
                        + " | detector firings per run |");
                System.out.println("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
                for (int i = 0; i < data.models.size(); i++) {
                    row("only " + model(i), reference(s, i), false);
                }
                row("oracle (per query: highest utility)", reference(s, -1), false);
                for (Learner l : LEARNERS) {
                    row("auto, " + l.name(), run(s, Variant.of(l)), true);
                }
            }
        }

        private void row(String name, Figures[] fs, boolean lags) {
            StringBuilder shares = new StringBuilder();
            for (int i = 0; i < data.models.size(); i++) {
                int k = i;
                shares.append(i == 0 ? "" : ", ")
                        .append(model(i))
                        .append(String.format(Locale.ROOT, " %.2f", mean(fs, f -> f.share[k])));
            }
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %.3f | %.4f | %.1f | %.1f | %s | %s | %s | %s |%n",
                    name,
                    mean(fs, Figures::accuracy),
                    mean(fs, Figures::costUsd),
                    mean(fs, Figures::regretFixed),
                    mean(fs, Figures::regretOracle),
                    shares,
                    lags ? lags(fs, Figures::lag) : "",
                    lags ? lags(fs, Figures::recoveryLag) : "",
                    lags ? String.format(Locale.ROOT, "%.1f", mean(fs, f -> f.firings)) : "");
        }
    }

    // ---------------------------------------------------------------- sweep and targets

    /** Threshold × re-exploration at the default cost weight, then the defaults at cost weights 0, 0.05 and 0.2. */
    static void sweep(Replay arena, Replay gsm8k) {
        System.out.printf(
                Locale.ROOT,
                "%n### Sweep: change detector threshold × reexplore (shift %.1f, after %.0f answers;"
                        + " RouterArena λ = 100, GSM8K stationary; means over %d seeds)%n%n",
                LearningSettings.DEFAULTS.detector().shift(),
                LearningSettings.DEFAULTS.detector().minEvidence(),
                arena.seeds);
        System.out.println("| threshold | reexplore | cost_weight | stationary regret | all-wrong lag (median / max)"
                + " | all-wrong accuracy | recovery lag (median) | GSM8K accuracy | GSM8K cost USD |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Variant v : sweepVariants()) {
            Figures[] stationary = arena.run(Scenario.STATIONARY, v);
            Figures[] wrong = arena.run(Scenario.ALL_WRONG, v);
            Figures[] recovery = arena.run(Scenario.RECOVERY, v);
            Figures[] gsm = gsm8k.run(Scenario.STATIONARY, v);
            int[] recoveryLags = Arrays.stream(recovery)
                    .mapToInt(Figures::recoveryLag)
                    .sorted()
                    .toArray();
            System.out.printf(
                    Locale.ROOT,
                    "| %.0f | %.2f | %.2f%s | %.1f | %s | %.3f | %s | %.3f | %.2f |%n",
                    v.settings.detector().threshold(),
                    v.settings.reexplore(),
                    v.costWeight,
                    v.settings.equals(LearningSettings.DEFAULTS) && v.costWeight == COST_WEIGHT ? " (defaults)" : "",
                    mean(stationary, Figures::regretFixed),
                    lags(wrong, Figures::lag),
                    mean(wrong, Figures::accuracy),
                    count(recoveryLags[recoveryLags.length / 2]),
                    mean(gsm, Figures::accuracy),
                    mean(gsm, Figures::costUsd));
        }
    }

    static List<Variant> sweepVariants() {
        ChangeDetector d = LearningSettings.DEFAULTS.detector();
        List<Variant> out = new ArrayList<>();
        for (double threshold : new double[] {8, 10, 12}) {
            for (double reexplore : new double[] {0.01, 0.02, 0.05}) {
                LearningSettings s = LearningSettings.DEFAULTS
                        .withDetector(new ChangeDetector(d.shift(), threshold, d.minEvidence()))
                        .withReexplore(reexplore);
                out.add(new Variant("threshold " + threshold + ", reexplore " + reexplore, s, COST_WEIGHT));
            }
        }
        for (double w : new double[] {0, 0.05, 0.2}) {
            out.add(new Variant("defaults, cost_weight " + w, LearningSettings.DEFAULTS, w));
        }
        return out;
    }

    /** The issue's targets, measured at the default settings. */
    static void targets(Replay arena, Replay gsm8k) {
        Variant defaults = Variant.of(LEARNERS.get(0));
        Figures[] stationary = arena.run(Scenario.STATIONARY, defaults);
        Figures[] wrong = arena.run(Scenario.ALL_WRONG, defaults);
        Figures[] gsm = gsm8k.run(Scenario.STATIONARY, defaults);
        double regret = mean(stationary, Figures::regretFixed);
        int[] lags = Arrays.stream(wrong).mapToInt(Figures::lag).sorted().toArray();
        int median = lags[lags.length / 2];
        int max = lags[lags.length - 1];
        double wrongAccuracy = mean(wrong, Figures::accuracy);
        double gsmAccuracy = mean(gsm, Figures::accuracy);
        double gsmCost = mean(gsm, Figures::costUsd);
        double gpt4Cost = mean(gsm8k.reference(Scenario.STATIONARY, gsm8k.leading), Figures::costUsd);

        System.out.println("\n### Targets (auto at cost_weight " + COST_WEIGHT + ", learning defaults: "
                + LEARNERS.get(0).name() + ")\n");
        System.out.println("| target | measured | |");
        System.out.println("| --- | --- | --- |");
        System.out.printf(Locale.ROOT, "| RouterArena stationary regret ≤ 5 | %.2f | %s |%n", regret, met(regret <= 5));
        System.out.printf(
                Locale.ROOT,
                "| RouterArena all-wrong lag ≤ 50 | median %s, max %s over %d seeds | %s |%n",
                count(median),
                count(max),
                lags.length,
                lag50(median, max));
        System.out.printf(
                Locale.ROOT,
                "| both at the same settings | regret %.2f, lag median %s / max %s | %s |%n",
                regret,
                count(median),
                count(max),
                regret <= 5 ? lag50(median, max) : "missed");
        System.out.printf(
                Locale.ROOT,
                "| RouterArena all-wrong accuracy ≥ 0.53 | %.3f | %s |%n",
                wrongAccuracy,
                met(wrongAccuracy >= 0.53));
        System.out.printf(
                Locale.ROOT,
                "| GSM8K accuracy ≥ 0.85 at lower cost than always %s (λ = 10, stationary) | %.3f at %.2f USD"
                        + " (%s alone: %.2f USD) | %s |%n",
                gsm8k.model(gsm8k.leading),
                gsmAccuracy,
                gsmCost,
                gsm8k.model(gsm8k.leading),
                gpt4Cost,
                met(gsmAccuracy >= 0.85 && gsmCost < gpt4Cost));

        List<String> both = new ArrayList<>();
        for (Variant v : sweepVariants()) {
            int[] l = Arrays.stream(arena.run(Scenario.ALL_WRONG, v))
                    .mapToInt(Figures::lag)
                    .sorted()
                    .toArray();
            if (mean(arena.run(Scenario.STATIONARY, v), Figures::regretFixed) <= 5 && l[l.length / 2] <= 50) {
                both.add(v.name + " (lag max " + count(l[l.length - 1]) + ")");
            }
        }
        System.out.println("\nSweep settings with stationary regret ≤ 5 and median all-wrong lag ≤ 50: "
                + (both.isEmpty() ? "none" : String.join("; ", both)) + ".");
    }

    private static String met(boolean ok) {
        return ok ? "met" : "missed";
    }

    private static String lag50(int median, int max) {
        return max <= 50 ? "met" : median <= 50 ? "met on the median, not on every seed" : "missed";
    }

    // ---------------------------------------------------------------- helpers

    static String lags(Figures[] fs, ToIntFunction<Figures> f) {
        int[] xs = Arrays.stream(fs).mapToInt(f).sorted().toArray();
        if (xs[0] < 0) {
            return "—";
        }
        return count(xs[xs.length / 2]) + " / " + count(xs[xs.length - 1]);
    }

    static List<Query> shuffled(List<Query> queries, long seed) {
        List<Query> out = new ArrayList<>(queries);
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (int i = out.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            Query tmp = out.get(i);
            out.set(i, out.get(j));
            out.set(j, tmp);
        }
        return out;
    }

    /**
     * The default data folder: {@code benchmarks/routing-data} or {@code routing-data} (one holding
     * {@code prices.json}) in the working directory or the nearest folder above it; null if none.
     */
    static @Nullable Path defaultData() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            for (Path candidate : List.of(dir.resolve("benchmarks/routing-data"), dir.resolve("routing-data"))) {
                if (Files.exists(candidate.resolve("prices.json"))) {
                    return candidate;
                }
            }
        }
        return null;
    }
}
