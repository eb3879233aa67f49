package io.brainstorm.proxy.bench;

import static io.brainstorm.proxy.bench.RoutingRegret.ABANDONED;
import static io.brainstorm.proxy.bench.RoutingRegret.WINDOW;
import static io.brainstorm.proxy.bench.RoutingRegret.count;
import static io.brainstorm.proxy.bench.RoutingRegret.load;
import static io.brainstorm.proxy.bench.RoutingRegret.mean;
import static io.brainstorm.proxy.bench.RoutingRegret.stats;
import static io.brainstorm.proxy.bench.RoutingRegret.windowShare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The second part of {@link RoutingRegret}: the recorded answers in {@code --data} (RouterArena,
 * RouteLLM GSM8K; two models each) replayed through {@code auto}, which routes each query between
 * the models (prices from {@code prices.json}), is rewarded with the recorded score and pays the
 * recorded cost, over {@code --shuffles} seeded orders of the queries; then again with the better
 * model's scores set to 0 for the second half of the queries. Prints Markdown tables on stdout.
 */
final class RecordedReplay {
    private RecordedReplay() {}

    /** Replays each dataset found in {@code data}; says so and skips one that is missing. */
    static void run(Path data, int shuffles, long seed, double discount) throws IOException {
        Json prices = Json.read(data.resolve("prices.json"));
        for (String file : List.of("routerarena_sub10.jsonl", "routellm_gsm8k.jsonl")) {
            Path path = data.resolve(file);
            if (!Files.exists(path)) {
                System.out.println("\n(" + path + " not found: replay skipped)");
                continue;
            }
            replay(file, Recorded.read(path, prices), shuffles, seed, discount);
        }
    }

    // ---------------------------------------------------------------- replay of recorded answers

    /** One dataset: model names, their prices, and per query every model's score and cost. */
    record Recorded(List<String> models, long[] inputNanoPerM, long[] outputNanoPerM, List<Query> queries) {
        static Recorded read(Path file, Json prices) throws IOException {
            ObjectMapper mapper = new ObjectMapper();
            List<Query> queries = new ArrayList<>();
            List<String> models = null;
            try (BufferedReader in = Files.newBufferedReader(file)) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode m = mapper.readTree(line).get("models");
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
                    queries.add(new Query(tokens / models.size(), score, cost));
                }
            }
            if (models == null) {
                throw new IOException(file + ": no queries (expected: one JSON object per line)");
            }
            long[] in = new long[models.size()];
            long[] out = new long[models.size()];
            for (int i = 0; i < models.size(); i++) {
                JsonNode p = prices.root.get("models").get(models.get(i));
                in[i] = Math.round(p.get("input").asDouble() * 1e9);
                out[i] = Math.round(p.get("output").asDouble() * 1e9);
            }
            return new Recorded(List.copyOf(models), in, out, List.copyOf(queries));
        }
    }

    /** One recorded query: the prompt size and each model's score and cost (USD). */
    record Query(long inputTokens, double[] score, double[] cost) {
        Query degraded(int model) {
            double[] s = score.clone();
            s[model] = 0;
            return new Query(inputTokens, s, cost);
        }
    }

    /** Totals of one replay. */
    record Replay(double accuracy, double costUsd, double[] share, int adaptation) {}

    static void replay(String file, Recorded data, int shuffles, long seed, double discount) {
        int n = data.queries.size();
        int m = data.models.size();
        System.out.println("\n### Replay: " + file + " (" + n + " queries × " + m + " models, " + shuffles
                + " seeded shuffles; accuracy = mean recorded score, cost = recorded USD)\n");
        double[] accuracy = new double[m];
        double[] cost = new double[m];
        double oracleAccuracy = 0;
        double oracleCost = 0;
        int better = 0;
        for (Query q : data.queries) {
            int o = 0;
            for (int i = 0; i < m; i++) {
                accuracy[i] += q.score[i] / n;
                cost[i] += q.cost[i];
                if (q.score[i] > q.score[o] || (q.score[i] == q.score[o] && q.cost[i] < q.cost[o])) {
                    o = i;
                }
            }
            oracleAccuracy += q.score[o] / n;
            oracleCost += q.cost[o];
        }
        for (int i = 1; i < m; i++) {
            better = accuracy[i] > accuracy[better] ? i : better;
        }
        System.out.println("| router | accuracy | total cost USD | regret vs best model (queries) | regret vs oracle"
                + " (queries) | share per model |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | --- |");
        for (int i = 0; i < m; i++) {
            System.out.printf(
                    Locale.ROOT,
                    "| only %s | %.3f | %.4f | %.1f | %.1f | |%n",
                    data.models.get(i),
                    accuracy[i],
                    cost[i],
                    (accuracy[better] - accuracy[i]) * n,
                    (oracleAccuracy - accuracy[i]) * n);
        }
        System.out.printf(
                Locale.ROOT,
                "| oracle (per query: best score, cheaper on ties) | %.3f | %.4f | | | |%n",
                oracleAccuracy,
                oracleCost);
        for (double w : new double[] {0, 0.1, 0.3}) {
            Replay[] runs = new Replay[shuffles];
            for (int s = 0; s < shuffles; s++) {
                runs[s] = replayOnce(data, shuffled(data.queries, seed + s), w, seed + s, discount, -1);
            }
            double acc = mean(runs, Replay::accuracy);
            System.out.printf(
                    Locale.ROOT,
                    "| auto, cost_weight %.1f%s | %.3f | %.4f | %.1f | %.1f | %s |%n",
                    w,
                    w == 0.1 ? " (default)" : "",
                    acc,
                    mean(runs, Replay::costUsd),
                    (accuracy[better] - acc) * n,
                    (oracleAccuracy - acc) * n,
                    shares(data, runs));
        }

        System.out.println("\nDegradation: " + data.models.get(better) + "'s scores set to 0 for the second half"
                + " (queries " + (n / 2 + 1) + ".." + n + "); adaptation = queries after the switch until its share"
                + " of the trailing " + WINDOW / 2 + " falls below " + (int) (ABANDONED * 100) + " %.\n");
        System.out.println("| router | accuracy | total cost USD | share of " + data.models.get(better)
                + " in the second half | adaptation, queries (median / max) |");
        System.out.println("| --- | ---: | ---: | ---: | ---: |");
        for (int i = 0; i < m; i++) {
            double acc = 0;
            double c = 0;
            for (int k = 0; k < n; k++) {
                Query q = data.queries.get(k);
                acc += (k >= n / 2 && i == better ? 0 : q.score[i]) / n;
                c += q.cost[i];
            }
            System.out.printf(
                    Locale.ROOT,
                    "| only %s | %.3f | %.4f | %s | |%n",
                    data.models.get(i),
                    acc,
                    c,
                    i == better ? "1.000" : "0.000");
        }
        for (double w : new double[] {0, 0.1, 0.3}) {
            Replay[] runs = new Replay[shuffles];
            for (int s = 0; s < shuffles; s++) {
                runs[s] = replayOnce(data, shuffled(data.queries, seed + s), w, seed + s, discount, better);
            }
            int[] adaptation =
                    Arrays.stream(runs).mapToInt(Replay::adaptation).sorted().toArray();
            System.out.printf(
                    Locale.ROOT,
                    "| auto, cost_weight %.1f | %.3f | %.4f | %.3f | %s / %s |%n",
                    w,
                    mean(runs, Replay::accuracy),
                    mean(runs, Replay::costUsd),
                    Arrays.stream(runs).mapToDouble(r -> r.share[0]).average().orElse(0),
                    count(adaptation[shuffles / 2]),
                    count(adaptation[shuffles - 1]));
        }
    }

    /**
     * Routes every query once with {@code auto}. With {@code degrade} ≥ 0 that model scores 0 on the
     * second half; the returned share is then its share of the second half, else each model's share.
     */
    static Replay replayOnce(
            Recorded data, List<Query> queries, double costWeight, long seed, double discount, int degrade) {
        RoutingStrategy auto = load("auto", Map.of("cost_weight", Double.toString(costWeight)));
        Learning store = Learning.onHeap(LearningSettings.DEFAULTS.withDiscount(discount));
        SplittableRandom random = new SplittableRandom(seed);
        int n = queries.size();
        int m = data.models.size();
        int window = WINDOW / 2;
        double accuracy = 0;
        double cost = 0;
        double[] share = new double[m];
        int[] degradedPicks = new int[n];
        int adaptation = -1;
        int half = n / 2;
        for (int t = 0; t < n; t++) {
            Query q = degrade >= 0 && t >= half ? queries.get(t).degraded(degrade) : queries.get(t);
            TaskClass tc = TaskClass.of(false, false, q.inputTokens);
            List<Candidate> candidates = new ArrayList<>(m);
            for (int i = 0; i < m; i++) {
                String model = data.models.get(i);
                candidates.add(Candidate.builder()
                        .endpoint("recorded")
                        .model(model)
                        .inputNanoUsdPerMillion(data.inputNanoPerM[i])
                        .outputNanoUsdPerMillion(data.outputNanoPerM[i])
                        .capabilities(Set.of("tools", "json"))
                        .contextLength(128_000)
                        .maxOutputTokens(4_096)
                        .stats(stats(store.posterior("replay", model + "@recorded", tc), LatencyStats.EMPTY))
                        .build());
            }
            RouteRequest request = RouteRequest.builder()
                    .requestId("q" + t)
                    .tenant("replay")
                    .model("auto")
                    .variant("auto")
                    .taskClass(tc)
                    .estimatedInputTokens(q.inputTokens)
                    .build();
            int pick =
                    candidates.indexOf(auto.route(request, candidates, random).first());
            accuracy += q.score[pick] / n;
            cost += q.cost[pick];
            store.answered("replay", candidates.get(pick).id(), tc, q.score[pick], t);
            if (degrade < 0) {
                share[pick] += 1.0 / n;
            } else if (t >= half) {
                share[0] += pick == degrade ? 1.0 / (n - half) : 0;
                degradedPicks[t] = pick == degrade ? 1 : 0;
                if (adaptation < 0 && t >= half + window - 1 && windowShare(degradedPicks, t, window) < ABANDONED) {
                    adaptation = t + 1 - half;
                }
            }
        }
        return new Replay(accuracy, cost, share, adaptation < 0 ? Integer.MAX_VALUE : adaptation);
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

    static String shares(Recorded data, Replay[] runs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < data.models.size(); i++) {
            final int k = i;
            sb.append(i == 0 ? "" : ", ")
                    .append(data.models.get(i))
                    .append(' ')
                    .append(String.format(
                            Locale.ROOT,
                            "%.2f",
                            Arrays.stream(runs)
                                    .mapToDouble(r -> r.share[k])
                                    .average()
                                    .orElse(0)));
        }
        return sb.toString();
    }

    /** A parsed JSON file. */
    record Json(JsonNode root) {
        static Json read(Path path) throws IOException {
            return new Json(new ObjectMapper().readTree(path.toFile()));
        }
    }
}
