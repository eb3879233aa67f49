package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.metrics.WriterHistograms;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.CompletionSink;
import io.brainstorm.proxy.settle.ScoreOutcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Per tenant, model and endpoint, since the gateway started: requests, errors, cost, latency and
 * TTFT (HdrHistogram) and the scorer's verdicts. {@code GET /admin/v1/stats/models} shows it, summed
 * over the tenants the caller may see ({@link #json}).
 *
 * <p>Quality: the mean of the scorer's verdicts, the count of each {@link ScoreOutcome}, and per
 * structured format ({@code json_object}: JSON accuracy, {@code json_schema}: schema compliance,
 * {@code tools}: tool-call success) how many scored answers were valid.
 *
 * <p>The model is the one that answered ({@link Completion#selectedModel()}); requests no model
 * answered (refused, unknown model…) count under {@value #NOT_ROUTED} with no endpoint, so a
 * client's made-up model names cannot grow the table.
 *
 * <p><b>Threading.</b> {@link #accept} runs on the event loops, several at once, and never waits
 * for another writer or for a reader: a concurrent map of cells whose counters are adders and
 * whose histograms have one single-writer recorder per event loop ({@link WriterHistograms}; never
 * a histogram shared by writers, whose writers can spin against each other on one CPU).
 * {@link #json} runs on the admin thread, one call at a time ({@code synchronized}, which no
 * writer takes): it adds each loop's new samples into the cell's histograms since start and reads
 * the counters while they move (each figure is a moment's, not all of them the same moment's).
 */
public final class DashboardStats implements CompletionSink {
    /** The model of requests no model answered. */
    public static final String NOT_ROUTED = "(not routed)";

    private static final int DIGITS = 2;
    private static final ScoreOutcome[] OUTCOMES = ScoreOutcome.values();
    /** The structured answer formats ({@link Completion#format()}) whose valid share is shown. */
    private static final List<String> FORMATS = List.of("json_object", "json_schema", "tools");

    private record Key(String tenant, @Nullable String model, String endpoint) {}

    /** One (tenant, model, endpoint)'s figures. */
    private static final class Cell {
        final LongAdder requests = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder costNano = new LongAdder();
        final LongAdder scored = new LongAdder();
        final DoubleAdder scoreSum = new DoubleAdder();
        final LongAdder[] outcomes = new LongAdder[OUTCOMES.length];
        /** Per structured format: scored answers, and the valid ones among them. */
        final LongAdder[] formatScored = new LongAdder[FORMATS.size()];

        final LongAdder[] formatValid = new LongAdder[FORMATS.size()];
        final WriterHistograms latencyMicros = new WriterHistograms(DIGITS);
        final WriterHistograms ttftMicros = new WriterHistograms(DIGITS);
        /** Reader only ({@link #json}): every sample since start. */
        final Histogram latencySinceStart = new Histogram(DIGITS);

        final Histogram ttftSinceStart = new Histogram(DIGITS);

        Cell() {
            for (int i = 0; i < outcomes.length; i++) {
                outcomes[i] = new LongAdder();
            }
            for (int i = 0; i < formatScored.length; i++) {
                formatScored[i] = new LongAdder();
                formatValid[i] = new LongAdder();
            }
        }
    }

    /** A sum of cells, made for one answer. */
    private static final class Sum {
        long requests;
        long errors;
        long costNano;
        long scored;
        double scoreSum;
        final long[] outcomes = new long[OUTCOMES.length];
        final long[] formatScored = new long[FORMATS.size()];
        final long[] formatValid = new long[FORMATS.size()];
        final Histogram latencyMicros = new Histogram(DIGITS);
        final Histogram ttftMicros = new Histogram(DIGITS);

        void add(Cell c) {
            requests += c.requests.sum();
            errors += c.errors.sum();
            costNano += c.costNano.sum();
            scored += c.scored.sum();
            scoreSum += c.scoreSum.sum();
            for (int i = 0; i < outcomes.length; i++) {
                outcomes[i] += c.outcomes[i].sum();
            }
            for (int i = 0; i < formatScored.length; i++) {
                formatScored[i] += c.formatScored[i].sum();
                formatValid[i] += c.formatValid[i].sum();
            }
            c.latencyMicros.drainInto(c.latencySinceStart);
            c.ttftMicros.drainInto(c.ttftSinceStart);
            latencyMicros.add(c.latencySinceStart);
            ttftMicros.add(c.ttftSinceStart);
        }
    }

    private final Map<Key, Cell> cells = new ConcurrentHashMap<>();
    private final long startedMillis = System.currentTimeMillis();

    @Override
    public void accept(Completion c) {
        boolean routed = c.selectedModel() != null;
        Key key = new Key(
                c.tenant() == null ? "" : c.tenant(),
                routed ? c.selectedModel() : NOT_ROUTED,
                routed && c.endpoint() != null ? c.endpoint() : "");
        Cell cell = cells.computeIfAbsent(key, k -> new Cell());
        cell.requests.increment();
        if (c.status() >= 400 || c.errorCode() != null) {
            cell.errors.increment();
        }
        cell.costNano.add(c.costNanoUsd());
        if (c.latencyMicros() >= 0) {
            cell.latencyMicros.record(c.latencyMicros());
        }
        if (c.ttftMicros() >= 0) {
            cell.ttftMicros.record(c.ttftMicros());
        }
        if (c.scored()) {
            cell.scored.increment();
            cell.scoreSum.add(c.score());
            int f = c.format() == null ? -1 : FORMATS.indexOf(c.format());
            if (f >= 0) {
                cell.formatScored[f].increment();
                if (c.scoreOutcome() == ScoreOutcome.VALID) {
                    cell.formatValid[f].increment();
                }
            }
        }
        if (c.scoreOutcome() != null) {
            cell.outcomes[c.scoreOutcome().ordinal()].increment();
        }
    }

    /**
     * {@code {"object":"list","since":…,"tenant":…,"data":[model stats…]}}: one entry per model and
     * endpoint, summed over {@code tenant}'s cells, or over every tenant's when it is null.
     */
    public synchronized ObjectNode json(@Nullable String tenant) {
        Map<List<String>, Sum> sums =
                new TreeMap<>(Comparator.comparing((List<String> k) -> k.get(0)).thenComparing(k -> k.get(1)));
        for (Map.Entry<Key, Cell> e : cells.entrySet()) {
            Key k = e.getKey();
            if (tenant == null || tenant.equals(k.tenant())) {
                sums.computeIfAbsent(List.of(k.model(), k.endpoint()), x -> new Sum())
                        .add(e.getValue());
            }
        }
        List<ObjectNode> data = new ArrayList<>(sums.size());
        for (Map.Entry<List<String>, Sum> e : sums.entrySet()) {
            Sum s = e.getValue();
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("object", "model_stats");
            o.put("model", e.getKey().get(0));
            o.put("endpoint", e.getKey().get(1).isEmpty() ? null : e.getKey().get(1));
            o.put("requests", s.requests);
            o.put("errors", s.errors);
            o.putRawValue("cost_usd", UsageView.usd(s.costNano));
            latency(o.putObject("latency_ms"), s.latencyMicros);
            latency(o.putObject("ttft_ms"), s.ttftMicros);
            ObjectNode q = o.putObject("quality");
            q.put("scored", s.scored);
            if (s.scored > 0) {
                q.put("mean", s.scoreSum / s.scored);
            } else {
                q.putNull("mean");
            }
            ObjectNode outcomes = q.putObject("outcomes");
            for (int i = 0; i < OUTCOMES.length; i++) {
                if (s.outcomes[i] > 0) {
                    outcomes.put(OUTCOMES[i].label(), s.outcomes[i]);
                }
            }
            ObjectNode formats = q.putObject("formats");
            for (int i = 0; i < FORMATS.size(); i++) {
                if (s.formatScored[i] > 0) {
                    formats.putObject(FORMATS.get(i))
                            .put("valid", s.formatValid[i])
                            .put("scored", s.formatScored[i]);
                }
            }
            data.add(o);
        }
        ObjectNode root = AdminJson.list(data);
        root.put("since", Instant.ofEpochMilli(startedMillis).toString());
        root.put("tenant", tenant);
        return root;
    }

    private static void latency(ObjectNode o, Histogram h) {
        o.put("samples", h.getTotalCount());
        if (h.getTotalCount() > 0) {
            o.put("p50", h.getValueAtPercentile(50) / 1000.0);
            o.put("p95", h.getValueAtPercentile(95) / 1000.0);
            o.put("p99", h.getValueAtPercentile(99) / 1000.0);
        } else {
            o.putNull("p50");
            o.putNull("p95");
            o.putNull("p99");
        }
    }
}
